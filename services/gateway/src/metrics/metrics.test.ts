import pino from "pino";
import { describe, expect, it } from "vitest";
import type { FleetSnapshot } from "../fleet/fleet.js";
import { createMetrics } from "./metrics.js";

const log = pino({ level: "silent" });

const snapshot: FleetSnapshot = {
  workers: [
    { id: "A", bot: "b", instance: "w-1", version: "1", plugins: ["echo"], stats: { v: 1, inFlight: 3, handled: 9, errors: 1, plugins: { echo: { handled: 9, errors: 1, averageLatencyMs: 1 } } } },
    { id: "B", bot: "b", version: "1", plugins: [] },
  ],
  services: [
    {
      type: "io.nats.micro.v1.stats_response",
      name: "sb-broker",
      id: "BR",
      version: "1",
      started: "2026-01-01T00:00:00Z",
      endpoints: [{ name: "info", subject: "sb.broker.b.info", num_requests: 4, num_errors: 1, processing_time: 0, average_processing_time: 0 }],
    },
  ],
  streams: [{ stream: "SB_INBOUND", messages: 7, bytes: 70, firstSeq: 1, lastSeq: 7, consumers: [{ stream: "SB_INBOUND", consumer: "c0", pending: 5, ackPending: 1, redelivered: 0, waiting: 0 }] }],
};

describe("metrics", () => {
  it("renders the fleet snapshot, and replaces it wholesale on the next refresh", async () => {
    let current: FleetSnapshot = snapshot;
    const m = createMetrics(() => Promise.resolve(current), log);
    await m.refreshFleet();
    let text = await m.registry.metrics();
    expect(text).toMatch(/^sb_fleet_scrape_success 1$/m);
    expect(text).toMatch(/^sb_workers 2$/m);
    expect(text).toMatch(/^sb_worker_in_flight\{instance="w-1"\} 3$/m);
    expect(text).toMatch(/^sb_plugin_handled_total\{plugin="echo",instance="w-1"\} 9$/m);
    expect(text).toMatch(/^sb_service_errors_total\{service="sb-broker",instance="BR",endpoint="info"\} 1$/m);
    expect(text).toMatch(/^sb_jetstream_consumer_pending\{stream="SB_INBOUND",consumer="c0"\} 5$/m);

    current = { workers: [], services: [], streams: [] };
    await m.refreshFleet();
    text = await m.registry.metrics();
    expect(text).toMatch(/^sb_workers 0$/m);
    expect(text).not.toContain('instance="w-1"');
    m.close();
  });

  it("marks a failed fleet read and keeps serving its own metrics", async () => {
    const m = createMetrics(() => Promise.reject(new Error("nats down")), log);
    m.observeHttp("GET", "/healthz", 200, 0.001);
    await m.refreshFleet();
    const text = await m.registry.metrics();
    expect(text).toMatch(/^sb_fleet_scrape_success 0$/m);
    expect(text).toMatch(/^gateway_http_requests_total\{method="GET",route="\/healthz",status_code="200"\} 1$/m);
    m.close();
  });
});
