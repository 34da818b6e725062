/**
 * Prometheus metrics: the gateway's own (HTTP by route and status, process) and the fleet's,
 * read live from the services API and JetStream on each scrape. One registry per app, so tests
 * can build several apps in one process.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { Logger } from "pino";
import type { FleetSnapshot } from "../fleet/fleet.js";

export interface Metrics {
  readonly registry: Registry;
  /** Records one answered HTTP request. */
  observeHttp(method: string, route: string, status: number, seconds: number): void;
  /** Reads the fleet (bounded by the discovery wait) and refreshes the fleet metrics. */
  refreshFleet(): Promise<void>;
  /** Stops timers started by default metrics. */
  close(): void;
}

export function createMetrics(snapshot: () => Promise<FleetSnapshot>, log: Logger): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "gateway_" });

  const httpRequests = new Counter({
    name: "gateway_http_requests_total",
    help: "HTTP requests answered by the gateway, by method, route and status.",
    labelNames: ["method", "route", "status_code"] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: "gateway_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by method, route and status.",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });

  const scrapeOk = new Gauge({
    name: "sb_fleet_scrape_success",
    help: "1 when the last read of the fleet (services API and JetStream) succeeded.",
    registers: [registry],
  });
  const scrapeSeconds = new Gauge({
    name: "sb_fleet_scrape_duration_seconds",
    help: "How long the last read of the fleet took.",
    registers: [registry],
  });
  const workers = new Gauge({
    name: "sb_workers",
    help: "plugin-host instances that answered $SRV.STATS.",
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: "sb_worker_in_flight",
    help: "Events a plugin-host instance is working on.",
    labelNames: ["instance"] as const,
    registers: [registry],
  });
  const handled = new Counter({
    name: "sb_plugin_handled_total",
    help: "Events handled per plugin and plugin-host instance (as reported by the instance).",
    labelNames: ["plugin", "instance"] as const,
    registers: [registry],
  });
  const pluginErrors = new Counter({
    name: "sb_plugin_errors_total",
    help: "Plugin failures per plugin and plugin-host instance (as reported by the instance).",
    labelNames: ["plugin", "instance"] as const,
    registers: [registry],
  });
  const serviceRequests = new Counter({
    name: "sb_service_requests_total",
    help: "Requests per services-API endpoint and instance ($SRV.STATS num_requests).",
    labelNames: ["service", "instance", "endpoint"] as const,
    registers: [registry],
  });
  const serviceErrors = new Counter({
    name: "sb_service_errors_total",
    help: "Failed requests per services-API endpoint and instance ($SRV.STATS num_errors).",
    labelNames: ["service", "instance", "endpoint"] as const,
    registers: [registry],
  });
  const streamMessages = new Gauge({
    name: "sb_jetstream_stream_messages",
    help: "Messages stored in a JetStream stream.",
    labelNames: ["stream"] as const,
    registers: [registry],
  });
  const consumerPending = new Gauge({
    name: "sb_jetstream_consumer_pending",
    help: "Consumer lag: messages not yet delivered to the consumer.",
    labelNames: ["stream", "consumer"] as const,
    registers: [registry],
  });
  const consumerAckPending = new Gauge({
    name: "sb_jetstream_consumer_ack_pending",
    help: "Messages delivered to the consumer and not yet acknowledged.",
    labelNames: ["stream", "consumer"] as const,
    registers: [registry],
  });

  // Values copied from remote counters: reset first so instances that went away disappear.
  const fleetMetrics = [workers, inFlight, handled, pluginErrors, serviceRequests, serviceErrors, streamMessages, consumerPending, consumerAckPending];

  return {
    registry,
    observeHttp(method, route, status, seconds) {
      const labels = { method, route, status_code: String(status) };
      httpRequests.inc(labels);
      httpDuration.observe(labels, seconds);
    },
    async refreshFleet() {
      const started = performance.now();
      try {
        const snap = await snapshot();
        for (const m of fleetMetrics) m.reset();
        workers.set(snap.workers.length);
        for (const w of snap.workers) {
          const instance = w.instance ?? w.id;
          if (!w.stats) continue;
          inFlight.set({ instance }, w.stats.inFlight);
          for (const [plugin, p] of Object.entries(w.stats.plugins)) {
            handled.inc({ plugin, instance }, p.handled);
            pluginErrors.inc({ plugin, instance }, p.errors);
          }
        }
        for (const s of snap.services) {
          const instance = s.metadata?.instance ?? s.id;
          for (const e of s.endpoints ?? []) {
            const labels = { service: s.name, instance, endpoint: e.name };
            serviceRequests.inc(labels, e.num_requests);
            serviceErrors.inc(labels, e.num_errors);
          }
        }
        for (const st of snap.streams) {
          streamMessages.set({ stream: st.stream }, st.messages);
          for (const c of st.consumers) {
            consumerPending.set({ stream: c.stream, consumer: c.consumer }, c.pending);
            consumerAckPending.set({ stream: c.stream, consumer: c.consumer }, c.ackPending);
          }
        }
        scrapeOk.set(1);
      } catch (err) {
        // The gateway's own metrics are still worth serving when the fleet cannot be read.
        log.warn({ err }, "could not read the fleet for /metrics");
        for (const m of fleetMetrics) m.reset();
        scrapeOk.set(0);
      } finally {
        scrapeSeconds.set((performance.now() - started) / 1000);
      }
    },
    close() {
      registry.clear();
    },
  };
}
