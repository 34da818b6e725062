// Wires the broker's parts from already-open resources (NATS connection, database, Session client).
// main.ts owns the process; tests build the app directly.
import { jetstream } from "@nats-io/jetstream";
import type { Service } from "@nats-io/services";
import type { NatsConnection } from "@nats-io/transport-node";
import type { ChunkedService } from "@session-bot/chunker/nats";
import { JetStreamPublisher } from "@session-bot/js-publisher";
import type { SessionClient } from "@session-bot/session";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { AdminApi } from "./admin/api.js";
import { startAdminService } from "./admin/service.js";
import { serveAttachments } from "./attachments/service.js";
import type { BrokerConfig } from "./config.js";
import { newCounters, type Counters } from "./counters.js";
import type { OpenDatabase } from "./db/database.js";
import { BrokerStore } from "./db/store.js";
import { DeadLetterRecorder } from "./deadletters/consumer.js";
import { buildHttp } from "./http/server.js";
import { Poller } from "./inbound/poller.js";
import { RateLimiter } from "./inbound/rate-limiter.js";
import { createMetrics, type BrokerMetrics } from "./metrics.js";
import { ensureTopology } from "./nats/setup.js";
import { OutboundWorker } from "./outbound/consumer.js";

/** Version reported in `info` and `$SRV`. */
export const BROKER_VERSION = "0.1.0";

export interface AppDeps {
  readonly config: BrokerConfig;
  readonly log: Logger;
  readonly nc: NatsConnection;
  readonly database: OpenDatabase;
  readonly client: SessionClient;
  readonly metrics?: BrokerMetrics;
}

/** A built broker: start it, serve `http`, stop it. */
export interface BrokerApp {
  readonly http: FastifyInstance;
  readonly store: BrokerStore;
  readonly metrics: BrokerMetrics;
  readonly counters: Counters;
  readonly poller: Poller;
  readonly outbound: OutboundWorker;
  /** Ensures NATS topology, starts consumers, endpoints, polling and retention. */
  start(): Promise<void>;
  /** Stops intake (polling, endpoints, consumers) and waits for in-flight sends; does not close NATS or the database. */
  stop(): Promise<void>;
}

/** Builds the broker from open resources. */
export function buildApp(deps: AppDeps): BrokerApp {
  const { config, log, nc, client } = deps;
  const metrics = deps.metrics ?? createMetrics();
  const store = new BrokerStore(deps.database.db);
  const counters = newCounters();
  const js = jetstream(nc);
  const startedAt = Date.now();
  let started = false;
  let admin: Service | undefined;
  let chunked: ChunkedService[] = [];
  let retentionTimer: NodeJS.Timeout | undefined;

  const poller = new Poller({
    bot: config.bot,
    partitions: config.partitions,
    pollIntervalMs: config.poll.intervalMs,
    busyPollIntervalMs: config.poll.busyIntervalMs,
    autoAcceptRequests: config.autoAcceptRequests,
    fault: config.fault,
    client,
    // Closes itself when the connection closes (main drains it after stop()).
    publisher: new JetStreamPublisher(nc),
    store,
    limiter: new RateLimiter({ perMinute: config.limits.ratePerMinute, burst: config.limits.rateBurst }),
    metrics,
    counters,
    log: log.child({ component: "inbound" }),
  });
  let outbound: OutboundWorker | undefined;
  let recorder: DeadLetterRecorder | undefined;

  const http = buildHttp({
    registry: metrics.registry,
    readiness: () => ({
      started,
      nats: !nc.isClosed() && !nc.isDraining(),
      database: deps.database.sqlite.open,
      polling: poller.healthy,
    }),
  });

  const runRetention = () => {
    try {
      const r = store.prune(config.retention);
      if (Object.values(r).some((n) => n > 0)) log.info({ pruned: r }, "retention: old rows deleted");
    } catch (err) {
      log.error({ err }, "retention failed");
    }
  };

  const outboundWorker = (consumer: string) =>
    new OutboundWorker({
      bot: config.bot,
      consumer,
      maxDeliver: config.outbound.maxDeliver,
      backoffMs: config.outbound.backoffMs,
      concurrency: config.outbound.concurrency,
      ackWaitMs: config.outbound.ackWaitMs,
      maxTextLength: config.limits.maxTextLength,
      js,
      client,
      store,
      metrics,
      counters,
      log: log.child({ component: "outbound" }),
    });

  const app: BrokerApp = {
    http,
    store,
    metrics,
    counters,
    poller,
    get outbound(): OutboundWorker {
      if (!outbound) throw new Error("broker not started");
      return outbound;
    },
    async start() {
      const topo = await ensureTopology(nc, { bot: config.bot, streams: config.streams, outbound: config.outbound }, log.child({ component: "nats" }));
      recorder = new DeadLetterRecorder({ consumer: topo.deadLetterConsumer, js, store, metrics, counters, log: log.child({ component: "dead-letters" }) });
      await recorder.start();
      outbound = outboundWorker(topo.outboundConsumer);
      await outbound.start();
      const api = new AdminApi({ bot: config.bot, version: BROKER_VERSION, startedAt, client, js, store, counters });
      admin = await startAdminService(nc, config.bot, BROKER_VERSION, api, log.child({ component: "admin" }));
      chunked = serveAttachments(nc, { bot: config.bot, maxAttachmentBytes: config.limits.maxAttachmentBytes, client, store, metrics, log: log.child({ component: "attachments" }) });
      runRetention();
      retentionTimer = setInterval(runRetention, config.retention.intervalMs);
      retentionTimer.unref();
      poller.start();
      started = true;
      log.info({ sessionId: client.sessionId, bot: config.bot }, "broker started");
    },
    async stop() {
      started = false;
      if (retentionTimer) clearInterval(retentionTimer);
      await poller.stop();
      await Promise.allSettled([admin?.stop(), ...chunked.map((c) => c.stop({ abort: true }))]);
      await outbound?.stop();
      await recorder?.stop();
    },
  };
  return app;
}
