/**
 * /healthz, /readyz and /metrics against a real nats-server: readiness follows the fleet as
 * services come and go, and metrics read the fleet live.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { startNats } from "@session-bot/nats-testing";
import { BOT, setupBus, startFakeBroker, startFakePluginHost, startFleetFixture, type FleetFixture } from "./fixtures/fleet.js";
import { auth, buildTestApp } from "./fixtures/app.js";

interface Readiness {
  status: string;
  checks: Record<string, { ok: boolean; detail: string; count?: number }>;
}

describe("readiness follows the fleet", () => {
  let fx: FleetFixture;
  let app: FastifyInstance;
  beforeAll(async () => {
    fx = await startFleetFixture({ hosts: 2 });
    app = await buildTestApp(fx);
  });
  afterAll(async () => {
    await app?.close();
    await fx?.stop();
  });

  it("/healthz is 200 whatever the fleet does", async () => {
    const r = await app.inject({ url: "/healthz" });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toEqual({ status: "ok" });
  });

  it("is ready with a broker and plugin-hosts", async () => {
    const r = await app.inject({ url: "/readyz" });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json<Readiness>();
    expect(body.status).toBe("ready");
    expect(body.checks.pluginHosts).toMatchObject({ ok: true, count: 2 });
  });

  it("is not ready once the plugin-hosts are gone, and says so", async () => {
    for (const h of fx.hosts) await h.stop();
    const r = await app.inject({ url: "/readyz" });
    expect(r.statusCode).toBe(503);
    const body = r.json<Readiness>();
    expect(body.status).toBe("not_ready");
    expect(body.checks.nats?.ok).toBe(true);
    expect(body.checks.broker?.ok).toBe(true);
    expect(body.checks.pluginHosts).toMatchObject({ ok: false, count: 0 });
    expect(body.checks.pluginHosts?.detail).toContain("no plugin-host");
  });

  it("ignores plugin-hosts of another bot", async () => {
    const other = await startFakePluginHost(fx.peer, "other-0", () => ({ v: 1, inFlight: 0, handled: 0, errors: 0, plugins: {} }), "otherbot");
    try {
      const r = await app.inject({ url: "/readyz" });
      expect(r.json<Readiness>().checks.pluginHosts).toMatchObject({ ok: false, count: 0 });
      const workers = await app.inject({ url: "/admin/workers", headers: auth });
      expect(workers.json<{ items: unknown[] }>().items).toEqual([]);
    } finally {
      await other.stop();
    }
  });

  it("is not ready without a broker, and comes back when one registers", async () => {
    const host = await startFakePluginHost(fx.peer, "host-9", () => ({ v: 1, inFlight: 0, handled: 0, errors: 0, plugins: {} }));
    await fx.broker.stop();
    const down = await app.inject({ url: "/readyz" });
    expect(down.statusCode).toBe(503);
    const body = down.json<Readiness>();
    expect(body.checks.broker?.ok).toBe(false);
    expect(body.checks.broker?.detail).toContain("BROKER_UNAVAILABLE");
    expect(body.checks.pluginHosts?.ok).toBe(true);
    // Admin routes that need the broker answer 503 problems meanwhile.
    const bot = await app.inject({ url: "/admin/bot", headers: auth });
    expect(bot.statusCode).toBe(503);
    expect(bot.json()).toMatchObject({ code: "BROKER_UNAVAILABLE" });

    fx.broker = await startFakeBroker(fx.peer, fx.state);
    const up = await app.inject({ url: "/readyz" });
    expect(up.statusCode, up.body).toBe(200);
    await host.stop();
  });
});

describe("NATS down", () => {
  it("readiness says NATS is not connected; health stays up; admin answers 503", async () => {
    const nats = await startNats();
    const nc = await connect({ servers: nats.url });
    const app = await buildTestApp({ nc });
    try {
      await nc.close();
      const r = await app.inject({ url: "/readyz" });
      expect(r.statusCode).toBe(503);
      expect(r.json<Readiness>().checks.nats).toMatchObject({ ok: false });
      expect((await app.inject({ url: "/healthz" })).statusCode).toBe(200);
      const admin = await app.inject({ url: "/admin/plugins", headers: auth });
      expect(admin.statusCode).toBe(503);
      expect(admin.json()).toMatchObject({ code: "NATS_UNAVAILABLE" });
      // Metrics still answer (the gateway's own), with the fleet marked unreadable.
      const m = await app.inject({ url: "/metrics" });
      expect(m.statusCode).toBe(200);
      expect(m.body).toMatch(/^sb_fleet_scrape_success 0$/m);
    } finally {
      await app.close();
      await nats.stop();
    }
  });

  it("a broker that answers garbage is a 502 problem, not a crash", async () => {
    const nats = await startNats();
    const peer = await connect({ servers: nats.url });
    const nc = await connect({ servers: nats.url });
    await setupBus(peer);
    const sub = peer.subscribe(`sb.broker.${BOT}.>`, { callback: (_e, m) => {
        m.respond("not json at all");
      },
    });
    const app = await buildTestApp({ nc });
    try {
      const r = await app.inject({ url: "/admin/bot", headers: auth });
      expect(r.statusCode).toBe(502);
      expect(r.json()).toMatchObject({ code: "BROKER_FAILED" });
      const conv = await app.inject({ url: "/admin/conversations", headers: auth });
      expect(conv.json()).toMatchObject({ code: "BROKER_FAILED" });
    } finally {
      sub.unsubscribe();
      await app.close();
      await nc.close();
      await peer.close();
      await nats.stop();
    }
  });
});

describe("/metrics", () => {
  let fx: FleetFixture;
  let app: FastifyInstance;
  beforeAll(async () => {
    fx = await startFleetFixture({ hosts: 2 });
    app = await buildTestApp(fx);
  });
  afterAll(async () => {
    await app?.close();
    await fx?.stop();
  });

  it("exposes HTTP metrics by route pattern and status", async () => {
    await app.inject({ url: "/admin/bot", headers: auth });
    await app.inject({ url: "/admin/bot" });
    await app.inject({ url: "/admin/conversations/05nope/messages", headers: auth });
    const m = (await app.inject({ url: "/metrics" })).body;
    expect(m).toMatch(/gateway_http_requests_total\{method="GET",route="\/admin\/bot",status_code="200"\} 1/);
    expect(m).toMatch(/gateway_http_requests_total\{method="GET",route="\/admin\/bot",status_code="401"\} 1/);
    expect(m).toMatch(/gateway_http_requests_total\{method="GET",route="\/admin\/conversations\/:id\/messages",status_code="400"\} 1/);
    expect(m).toContain("gateway_http_request_duration_seconds_bucket");
  });

  it("exposes the fleet live: workers, per-plugin handled/errors, services, consumer lag", async () => {
    const js = jetstream(fx.peer);
    for (let i = 0; i < 3; i++) await js.publish(`sb.in.${BOT}.0.message`, "{}");
    const r = await app.inject({ url: "/metrics" });
    expect(r.headers["content-type"]).toMatch(/^text\/plain/);
    const m = r.body;
    expect(m).toMatch(/^sb_fleet_scrape_success 1$/m);
    expect(m).toMatch(/^sb_workers 2$/m);
    expect(m).toMatch(/^sb_plugin_handled_total\{plugin="echo",instance="host-1"\} 20$/m);
    expect(m).toMatch(/^sb_plugin_errors_total\{plugin="echo",instance="host-1"\} 1$/m);
    expect(m).toMatch(/^sb_worker_in_flight\{instance="host-1"\} 1$/m);
    expect(m).toMatch(/^sb_jetstream_consumer_pending\{stream="SB_INBOUND",consumer="sb_host_testbot_p0"\} 3$/m);
    expect(m).toMatch(/^sb_jetstream_stream_messages\{stream="SB_INBOUND"\} 3$/m);
    expect(m).toMatch(/^sb_service_requests_total\{service="sb-broker",instance="[A-Z0-9]+",endpoint="info"\} \d+$/m);

    // Live: a counter change shows on the next scrape; a stopped worker disappears.
    fx.counters.set("host-1", { v: 1, inFlight: 4, handled: 50, errors: 5, plugins: { echo: { handled: 45, errors: 5, averageLatencyMs: 2 } } });
    await fx.hosts[0]!.stop();
    const next = (await app.inject({ url: "/metrics" })).body;
    expect(next).toMatch(/^sb_workers 1$/m);
    expect(next).toMatch(/^sb_plugin_handled_total\{plugin="echo",instance="host-1"\} 45$/m);
    expect(next).not.toContain('instance="host-0"');
  });
});
