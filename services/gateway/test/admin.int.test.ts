/**
 * Every admin route through `inject()`, against a real nats-server with the broker and two
 * plugin-hosts registered on the services API (test fixtures), streams and KV as the broker
 * creates them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { startFleetFixture, type FleetFixture } from "./fixtures/fleet.js";
import { auth, buildTestApp } from "./fixtures/app.js";

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

const CONV = "05" + "1".repeat(64);

function expectProblem(r: LightMyRequestResponse, status: number, code: string): Record<string, unknown> {
  expect(r.statusCode, r.body).toBe(status);
  expect(r.headers["content-type"]).toMatch(/^application\/problem\+json/);
  const p = r.json<Record<string, unknown>>();
  expect(p).toMatchObject({ status, code, type: expect.stringMatching(/^urn:session-bot:gateway:problem:/) });
  expect(typeof p.title).toBe("string");
  expect(typeof p.detail).toBe("string");
  return p;
}

describe("bot", () => {
  it("GET /admin/bot answers the broker's identity", async () => {
    const r = await app.inject({ url: "/admin/bot", headers: auth });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ bot: "testbot", sessionId: fx.state.info.sessionId, displayName: "Test Bot" });
  });

  it("PUT /admin/profile changes the display name at the broker", async () => {
    const r = await app.inject({ method: "PUT", url: "/admin/profile", headers: auth, payload: { displayName: "Renamed" } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ displayName: "Renamed" });
    expect(fx.state.info.displayName).toBe("Renamed");
  });

  it("PUT /admin/profile refuses a body outside the schema", async () => {
    for (const payload of [{}, { displayName: "" }, { displayName: "x".repeat(65) }, { displayName: "ok", extra: 1 }, { displayName: 3 }]) {
      const r = await app.inject({ method: "PUT", url: "/admin/profile", headers: auth, payload });
      const p = expectProblem(r, 400, "VALIDATION_FAILED");
      expect(Array.isArray(p.errors)).toBe(true);
    }
    expect(fx.state.info.displayName).toBe("Renamed");
  });
});

describe("fleet", () => {
  it("GET /admin/workers lists both plugin-hosts with their per-plugin stats", async () => {
    const r = await app.inject({ url: "/admin/workers", headers: auth });
    expect(r.statusCode).toBe(200);
    const body = r.json<{ count: number; workers: { instance: string; inFlight: number; plugins: { name: string; handled: number }[] }[] }>();
    expect(body.count).toBe(2);
    const byInstance = Object.fromEntries(body.workers.map((w) => [w.instance, w]));
    expect(byInstance["host-0"]?.plugins).toContainEqual({ name: "echo", handled: 10, errors: 0, avgLatencyMs: 1.5 });
    expect(byInstance["host-1"]?.inFlight).toBe(1);
  });

  it("GET /admin/workers sees live changes of the counters", async () => {
    fx.counters.set("host-0", { inFlight: 7, plugins: [{ name: "echo", handled: 99, errors: 2 }] });
    const r = await app.inject({ url: "/admin/workers", headers: auth });
    const w = r.json<{ workers: { instance: string; inFlight: number; plugins: unknown[] }[] }>().workers.find((x) => x.instance === "host-0");
    expect(w).toMatchObject({ inFlight: 7, plugins: [{ name: "echo", handled: 99, errors: 2 }] });
  });

  it("GET /admin/streams shows streams and consumer lag", async () => {
    await fx.peer.request("$JS.API.INFO"); // the peer is connected; publish into the inbound stream:
    const { jetstream } = await import("@nats-io/jetstream");
    const js = jetstream(fx.peer);
    await js.publish("sb.in.testbot.message", "{}");
    await js.publish("sb.in.testbot.message", "{}");
    const r = await app.inject({ url: "/admin/streams", headers: auth });
    expect(r.statusCode).toBe(200);
    const inbound = r.json<{ streams: { name: string; messages: number; consumers: { name: string; pending: number }[] }[] }>().streams.find(
      (s) => s.name === "SB_INBOUND",
    );
    expect(inbound).toMatchObject({ messages: 2, consumers: [{ name: "plugin-host", pending: 2 }] });
  });
});

describe("plugins", () => {
  it("GET /admin/plugins lists manifests with defaults and summed counters", async () => {
    const r = await app.inject({ url: "/admin/plugins", headers: auth });
    expect(r.statusCode).toBe(200);
    const plugins = r.json<{ plugins: { name: string; enabled: boolean; configured: boolean; handled: number }[] }>().plugins;
    expect(plugins.map((p) => p.name)).toEqual(["echo", "ping"]);
    // host-0 reports no ping counters since the live-change test above; host-1 reports 3.
    expect(plugins.find((p) => p.name === "ping")).toMatchObject({ enabled: true, configured: false, handled: 3 });
    expect(plugins.find((p) => p.name === "echo")).toMatchObject({ handled: 99 + 20, errors: 2 + 1 });
  });

  it("PATCH disables a plugin and the record reaches KV sb_plugins", async () => {
    const r = await app.inject({ method: "PATCH", url: "/admin/plugins/echo", headers: auth, payload: { enabled: false } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ name: "echo", enabled: false, configured: true, config: {} });
    const entry = await fx.kv.plugins.get("echo");
    expect(entry?.json()).toMatchObject({ enabled: false, config: {} });
  });

  it("PATCH with a valid config writes it and keeps the enable flag", async () => {
    await fx.kv.plugins.put("ping", JSON.stringify({ enabled: false, config: {}, updatedAt: new Date().toISOString() }));
    const r = await app.inject({ method: "PATCH", url: "/admin/plugins/ping", headers: auth, payload: { config: { reply: "pong!", delayMs: 10 } } });
    expect(r.statusCode, r.body).toBe(200);
    expect((await fx.kv.plugins.get("ping"))?.json()).toMatchObject({ enabled: false, config: { reply: "pong!", delayMs: 10 } });
  });

  it("PATCH refuses a config that breaks the plugin's config schema, and KV is unchanged", async () => {
    const before = (await fx.kv.plugins.get("ping"))!.revision;
    for (const config of [{ reply: "" }, { delayMs: -1 }, { unknown: true }, { reply: 5 }]) {
      const r = await app.inject({ method: "PATCH", url: "/admin/plugins/ping", headers: auth, payload: { config } });
      const p = expectProblem(r, 422, "PLUGIN_CONFIG_INVALID");
      expect((p.errors as unknown[]).length).toBeGreaterThan(0);
    }
    expect((await fx.kv.plugins.get("ping"))!.revision).toBe(before);
  });

  it("PATCH refuses any config for a plugin without a config schema", async () => {
    const r = await app.inject({ method: "PATCH", url: "/admin/plugins/echo", headers: auth, payload: { config: { a: 1 } } });
    expectProblem(r, 422, "PLUGIN_CONFIG_INVALID");
  });

  it("PATCH of an unknown plugin is 404; a bad name or body is 400", async () => {
    expectProblem(await app.inject({ method: "PATCH", url: "/admin/plugins/nope", headers: auth, payload: { enabled: true } }), 404, "PLUGIN_NOT_FOUND");
    expectProblem(await app.inject({ method: "PATCH", url: "/admin/plugins/Bad.Name", headers: auth, payload: { enabled: true } }), 400, "VALIDATION_FAILED");
    for (const payload of [{}, { enabled: "yes" }, { config: [] }, { other: 1 }]) {
      expectProblem(await app.inject({ method: "PATCH", url: "/admin/plugins/echo", headers: auth, payload }), 400, "VALIDATION_FAILED");
    }
  });

  it("ignores a corrupt record in KV and overwrites it on the next PATCH", async () => {
    await fx.kv.plugins.put("ping", "not json");
    const list = await app.inject({ url: "/admin/plugins", headers: auth });
    expect(list.json<{ plugins: { name: string; configured: boolean }[] }>().plugins.find((p) => p.name === "ping")?.configured).toBe(false);
    const r = await app.inject({ method: "PATCH", url: "/admin/plugins/ping", headers: auth, payload: { enabled: true } });
    expect(r.statusCode).toBe(200);
    expect((await fx.kv.plugins.get("ping"))?.json()).toMatchObject({ enabled: true, config: {} });
  });
});

describe("conversations", () => {
  it("GET /admin/conversations pages through the broker", async () => {
    const first = await app.inject({ url: "/admin/conversations?limit=2", headers: auth });
    expect(first.statusCode).toBe(200);
    const p1 = first.json<{ items: { id: string }[]; next?: string }>();
    expect(p1.items).toHaveLength(2);
    expect(p1.next).toBe("2");
    const second = await app.inject({ url: `/admin/conversations?limit=2&cursor=${p1.next}`, headers: auth });
    expect(second.json<{ items: unknown[]; next?: string }>()).toMatchObject({ items: [expect.anything()] });
  });

  it("refuses out-of-range paging", async () => {
    for (const q of ["limit=0", "limit=201", "limit=abc", "cursor=", "extra=1"]) {
      expectProblem(await app.inject({ url: `/admin/conversations?${q}`, headers: auth }), 400, "VALIDATION_FAILED");
    }
  });

  it("GET /admin/conversations/{id}/messages answers the log; unknown id is the broker's 404", async () => {
    const r = await app.inject({ url: `/admin/conversations/${CONV}/messages`, headers: auth });
    expect(r.statusCode).toBe(200);
    expect(r.json<{ items: { conversationId: string }[] }>().items.every((m) => m.conversationId === CONV)).toBe(true);
    const missing = await app.inject({ url: `/admin/conversations/05nope/messages`, headers: auth });
    const p = expectProblem(missing, 404, "BROKER_REJECTED");
    expect(p.upstreamCode).toBe("CONVERSATION_NOT_FOUND");
    expectProblem(await app.inject({ url: `/admin/conversations/${"x".repeat(129)}/messages`, headers: auth }), 400, "VALIDATION_FAILED");
    expectProblem(await app.inject({ url: `/admin/conversations/${"x".repeat(5000)}/messages`, headers: auth }), 400, "VALIDATION_FAILED");
    expectProblem(await app.inject({ url: `/admin/conversations/a%20b/messages`, headers: auth }), 400, "VALIDATION_FAILED");
  });

  it("POST block / unblock flip the broker's flag", async () => {
    const b = await app.inject({ method: "POST", url: `/admin/conversations/${CONV}/block`, headers: auth });
    expect(b.json()).toEqual({ id: CONV, blocked: true });
    expect(fx.state.conversations.find((c) => c.id === CONV)?.blocked).toBe(true);
    const u = await app.inject({ method: "POST", url: `/admin/conversations/${CONV}/unblock`, headers: auth });
    expect(u.json()).toEqual({ id: CONV, blocked: false });
  });

  it("POST /admin/messages sends a text (202) and refuses bad ones", async () => {
    const r = await app.inject({ method: "POST", url: "/admin/messages", headers: auth, payload: { conversationId: CONV, text: "hello" } });
    expect(r.statusCode).toBe(202);
    expect(r.json()).toMatchObject({ status: "queued" });
    expect(fx.state.sent).toContainEqual({ conversationId: CONV, text: "hello" });
    for (const payload of [{ conversationId: CONV }, { conversationId: CONV, text: "" }, { conversationId: CONV, text: "x".repeat(4001) }, { text: "hi" }]) {
      expectProblem(await app.inject({ method: "POST", url: "/admin/messages", headers: auth, payload }), 400, "VALIDATION_FAILED");
    }
  });

  it("a refusal by the broker keeps its status and code (409 blocked)", async () => {
    await app.inject({ method: "POST", url: `/admin/conversations/${CONV}/block`, headers: auth });
    const r = await app.inject({ method: "POST", url: "/admin/messages", headers: auth, payload: { conversationId: CONV, text: "hi" } });
    expect(expectProblem(r, 409, "BROKER_REJECTED").upstreamCode).toBe("CONVERSATION_BLOCKED");
    await app.inject({ method: "POST", url: `/admin/conversations/${CONV}/unblock`, headers: auth });
  });
});

describe("dead letters", () => {
  it("GET lists and POST retry reaches the broker", async () => {
    const list = await app.inject({ url: "/admin/dead-letters", headers: auth });
    expect(list.json<{ items: { id: string }[] }>().items.map((d) => d.id)).toEqual(["dl-1"]);
    const r = await app.inject({ method: "POST", url: "/admin/dead-letters/dl-1/retry", headers: auth });
    expect(r.json()).toEqual({ id: "dl-1", retried: true });
    expect(fx.state.retried).toEqual(["dl-1"]);
    expectProblem(await app.inject({ method: "POST", url: "/admin/dead-letters/dl-9/retry", headers: auth }), 404, "BROKER_REJECTED");
  });
});

describe("HTTP edge", () => {
  it("malformed JSON, wrong media type and oversized bodies are problems, not crashes", async () => {
    const bad = await app.inject({ method: "PUT", url: "/admin/profile", headers: { ...auth, "content-type": "application/json" }, payload: "{nope" });
    expectProblem(bad, 400, "VALIDATION_FAILED");
    const text = await app.inject({ method: "PUT", url: "/admin/profile", headers: { ...auth, "content-type": "text/plain" }, payload: "hi" });
    expectProblem(text, 415, "UNSUPPORTED_MEDIA_TYPE");
    const big = await app.inject({
      method: "POST",
      url: "/admin/messages",
      headers: { ...auth, "content-type": "application/json" },
      payload: JSON.stringify({ conversationId: CONV, text: "x".repeat(70 * 1024) }),
    });
    expectProblem(big, 413, "BODY_TOO_LARGE");
  });

  it("unknown routes are 404 problems", async () => {
    expectProblem(await app.inject({ url: "/nope" }), 404, "NOT_FOUND");
  });

  it("sets security headers and no CORS headers by default", async () => {
    const r = await app.inject({ url: "/healthz", headers: { origin: "https://evil.example" } });
    expect(r.headers["x-content-type-options"]).toBe("nosniff");
    expect(r.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(r.headers["x-frame-options"]).toBeDefined();
    expect(r.headers["access-control-allow-origin"]).toBeUndefined();
  });
});
