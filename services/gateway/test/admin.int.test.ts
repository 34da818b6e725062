/**
 * Every admin route through `inject()`, against a real nats-server with the broker and two
 * plugin-hosts registered on the services API (test fixtures), streams and KV as the broker
 * creates them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { MAX_DISPLAY_NAME_LENGTH } from "@session-bot/protocol";
import { BOT, peer, startFleetFixture, type FleetFixture } from "./fixtures/fleet.js";
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

const CONV = peer(1);
const key = (plugin: string) => `${BOT}.${plugin}`;
const record = (enabled: boolean, config: Record<string, unknown> = {}) =>
  JSON.stringify({ v: 1, enabled, config, updatedAt: Date.now(), updatedBy: "test" });

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
    expect(r.json()).toMatchObject({ v: 1, bot: "testbot", sessionId: fx.state.info.sessionId, displayName: "Test Bot", counters: { received: 3 } });
  });

  it("PUT /admin/profile changes the display name at the broker", async () => {
    const r = await app.inject({ method: "PUT", url: "/admin/profile", headers: auth, payload: { displayName: "Renamed" } });
    expect(r.statusCode).toBe(200);
    expect(r.json()).toMatchObject({ displayName: "Renamed" });
    expect(fx.state.info.displayName).toBe("Renamed");
  });

  it("PUT /admin/profile refuses a body outside the schema", async () => {
    for (const payload of [{}, { displayName: "" }, { displayName: "x".repeat(MAX_DISPLAY_NAME_LENGTH + 1) }, { displayName: "ok", extra: 1 }, { displayName: 3 }]) {
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
    const body = r.json<{ v: number; items: { instance: string; bot: string; plugins: string[]; stats: { inFlight: number; plugins: Record<string, unknown> } }[] }>();
    expect(body.v).toBe(1);
    expect(body.items).toHaveLength(2);
    const byInstance = Object.fromEntries(body.items.map((w) => [w.instance, w]));
    expect(byInstance["host-0"]).toMatchObject({ bot: BOT, plugins: ["echo", "ping"] });
    expect(byInstance["host-0"]?.stats.plugins.echo).toEqual({ handled: 10, errors: 0, averageLatencyMs: 1.5 });
    expect(byInstance["host-1"]?.stats.inFlight).toBe(1);
  });

  it("GET /admin/workers sees live changes of the counters", async () => {
    fx.counters.set("host-0", { v: 1, inFlight: 7, handled: 99, errors: 2, plugins: { echo: { handled: 99, errors: 2, averageLatencyMs: 3 } } });
    const r = await app.inject({ url: "/admin/workers", headers: auth });
    const w = r.json<{ items: { instance: string; plugins: string[]; stats: { inFlight: number } }[] }>().items.find((x) => x.instance === "host-0");
    expect(w).toMatchObject({ plugins: ["echo"], stats: { inFlight: 7 } });
  });

  it("GET /admin/streams shows streams and consumer lag", async () => {
    const { jetstream } = await import("@nats-io/jetstream");
    const js = jetstream(fx.peer);
    await js.publish(`sb.in.${BOT}.0.message`, "{}");
    await js.publish(`sb.in.${BOT}.0.message`, "{}");
    const r = await app.inject({ url: "/admin/streams", headers: auth });
    expect(r.statusCode).toBe(200);
    const streams = r.json<{ items: { stream: string; messages: number; lastSeq: number; consumers: { consumer: string; pending: number }[] }[] }>().items;
    expect(streams.map((s) => s.stream)).toEqual(["SB_INBOUND", "SB_OUTBOUND", "SB_DEAD"]);
    expect(streams[0]).toMatchObject({ messages: 2, lastSeq: 2, consumers: [{ consumer: `sb_host_${BOT}_p0`, pending: 2 }] });
  });
});

describe("plugins", () => {
  it("GET /admin/plugins lists manifests, off without a record, with the workers that loaded them", async () => {
    const r = await app.inject({ url: "/admin/plugins", headers: auth });
    expect(r.statusCode).toBe(200);
    const plugins = r.json<{ items: { name: string; enabled: boolean; workers: number; commands: { name: string }[] }[] }>().items;
    expect(plugins.map((p) => p.name)).toEqual(["echo", "ping"]);
    // host-0 dropped ping in the live-change test above.
    expect(plugins.find((p) => p.name === "ping")).toMatchObject({ enabled: false, workers: 1, commands: [{ name: "ping" }] });
    expect(plugins.find((p) => p.name === "echo")).toMatchObject({ enabled: false, workers: 2 });
  });

  it("GET /admin/plugins/{name}/manifest serves the manifest with its config schema; unknown is 404", async () => {
    const r = await app.inject({ url: "/admin/plugins/ping/manifest", headers: auth });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ v: 1, name: "ping", version: "1.2.0", commands: [{ name: "ping" }], configSchema: { properties: { reply: { type: "string" } } } });
    expectProblem(await app.inject({ url: "/admin/plugins/nope/manifest", headers: auth }), 404, "PLUGIN_NOT_FOUND");
  });

  it("PATCH enables a plugin and the record reaches KV sb_plugins under <bot>.<plugin>", async () => {
    const r = await app.inject({ method: "PATCH", url: "/admin/plugins/echo", headers: auth, payload: { enabled: true } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ name: "echo", enabled: true, config: {}, updatedBy: "gateway:token-1" });
    expect((await fx.kv.plugins.get(key("echo")))?.json()).toMatchObject({ v: 1, enabled: true, config: {}, updatedBy: "gateway:token-1" });
    const off = await app.inject({ method: "PATCH", url: "/admin/plugins/echo", headers: auth, payload: { enabled: false } });
    expect(off.json()).toMatchObject({ enabled: false });
    expect((await fx.kv.plugins.get(key("echo")))?.json()).toMatchObject({ enabled: false });
  });

  it("PATCH with a valid config writes it and keeps the enable flag", async () => {
    await fx.kv.plugins.put(key("ping"), record(false));
    const r = await app.inject({ method: "PATCH", url: "/admin/plugins/ping", headers: auth, payload: { config: { reply: "pong!", delayMs: 10 } } });
    expect(r.statusCode, r.body).toBe(200);
    expect((await fx.kv.plugins.get(key("ping")))?.json()).toMatchObject({ enabled: false, config: { reply: "pong!", delayMs: 10 } });
  });

  it("PATCH refuses a config that breaks the plugin's config schema, and KV is unchanged", async () => {
    const before = (await fx.kv.plugins.get(key("ping")))!.revision;
    for (const config of [{ reply: "" }, { delayMs: -1 }, { unknown: true }, { reply: 5 }]) {
      const r = await app.inject({ method: "PATCH", url: "/admin/plugins/ping", headers: auth, payload: { config } });
      const p = expectProblem(r, 422, "PLUGIN_CONFIG_INVALID");
      expect((p.errors as unknown[]).length).toBeGreaterThan(0);
    }
    expect((await fx.kv.plugins.get(key("ping")))!.revision).toBe(before);
  });

  it("PATCH accepts any config object for a plugin without a config schema", async () => {
    const r = await app.inject({ method: "PATCH", url: "/admin/plugins/echo", headers: auth, payload: { config: { a: 1 } } });
    expect(r.statusCode).toBe(200);
    expect((await fx.kv.plugins.get(key("echo")))?.json()).toMatchObject({ config: { a: 1 } });
  });

  it("PATCH of an unknown plugin is 404; a bad name or body is 400", async () => {
    expectProblem(await app.inject({ method: "PATCH", url: "/admin/plugins/nope", headers: auth, payload: { enabled: true } }), 404, "PLUGIN_NOT_FOUND");
    expectProblem(await app.inject({ method: "PATCH", url: "/admin/plugins/Bad.Name", headers: auth, payload: { enabled: true } }), 400, "VALIDATION_FAILED");
    for (const payload of [{}, { enabled: "yes" }, { config: [] }, { other: 1 }]) {
      expectProblem(await app.inject({ method: "PATCH", url: "/admin/plugins/echo", headers: auth, payload }), 400, "VALIDATION_FAILED");
    }
  });

  it("ignores a corrupt record in KV and overwrites it on the next PATCH", async () => {
    await fx.kv.plugins.put(key("ping"), "not json");
    const list = await app.inject({ url: "/admin/plugins", headers: auth });
    expect(list.json<{ items: { name: string; updatedAt?: number }[] }>().items.find((p) => p.name === "ping")?.updatedAt).toBeUndefined();
    const r = await app.inject({ method: "PATCH", url: "/admin/plugins/ping", headers: auth, payload: { enabled: true } });
    expect(r.statusCode).toBe(200);
    expect((await fx.kv.plugins.get(key("ping")))?.json()).toMatchObject({ enabled: true, config: {} });
  });
});

describe("conversations", () => {
  it("GET /admin/conversations pages through the broker", async () => {
    const first = await app.inject({ url: "/admin/conversations?limit=2", headers: auth });
    expect(first.statusCode).toBe(200);
    const p1 = first.json<{ items: { conversation: string }[]; nextCursor: string | null }>();
    expect(p1.items.map((c) => c.conversation)).toEqual([peer(0), peer(1)]);
    expect(p1.nextCursor).toBe("2");
    const second = await app.inject({ url: `/admin/conversations?limit=2&cursor=${p1.nextCursor}`, headers: auth });
    expect(second.json()).toMatchObject({ items: [{ conversation: peer(2) }], nextCursor: null });
  });

  it("refuses out-of-range paging", async () => {
    for (const q of ["limit=0", "limit=201", "limit=abc", "cursor=", "extra=1"]) {
      expectProblem(await app.inject({ url: `/admin/conversations?${q}`, headers: auth }), 400, "VALIDATION_FAILED");
    }
  });

  it("GET /admin/conversations/{id}/messages answers the log; unknown id is the broker's 404", async () => {
    const r = await app.inject({ url: `/admin/conversations/${CONV}/messages`, headers: auth });
    expect(r.statusCode).toBe(200);
    const items = r.json<{ items: { conversation: string; direction: string }[] }>().items;
    expect(items).toHaveLength(2);
    expect(items.every((m) => m.conversation === CONV)).toBe(true);
    const outOnly = await app.inject({ url: `/admin/conversations/${CONV}/messages?direction=out`, headers: auth });
    expect(outOnly.json<{ items: { direction: string }[] }>().items.map((m) => m.direction)).toEqual(["out"]);
    const missing = await app.inject({ url: `/admin/conversations/${peer(9)}/messages`, headers: auth });
    const p = expectProblem(missing, 404, "BROKER_REJECTED");
    expect(p.upstreamCode).toBe("NOT_FOUND");
    expectProblem(await app.inject({ url: `/admin/conversations/05nope/messages`, headers: auth }), 400, "VALIDATION_FAILED");
    expectProblem(await app.inject({ url: `/admin/conversations/${CONV}/messages?direction=sideways`, headers: auth }), 400, "VALIDATION_FAILED");
    expectProblem(await app.inject({ url: `/admin/conversations/${"x".repeat(129)}/messages`, headers: auth }), 400, "VALIDATION_FAILED");
    expectProblem(await app.inject({ url: `/admin/conversations/${"x".repeat(5000)}/messages`, headers: auth }), 400, "VALIDATION_FAILED");
    expectProblem(await app.inject({ url: `/admin/conversations/a%20b/messages`, headers: auth }), 400, "VALIDATION_FAILED");
  });

  it("POST block / unblock flip the broker's flag", async () => {
    const b = await app.inject({ method: "POST", url: `/admin/conversations/${CONV}/block`, headers: auth });
    expect(b.json()).toEqual({ v: 1, ok: true });
    expect(fx.state.conversations.find((c) => c.conversation === CONV)?.blocked).toBe(true);
    const u = await app.inject({ method: "POST", url: `/admin/conversations/${CONV}/unblock`, headers: auth });
    expect(u.json()).toEqual({ v: 1, ok: true });
    expect(fx.state.conversations.find((c) => c.conversation === CONV)?.blocked).toBe(false);
    expectProblem(await app.inject({ method: "POST", url: `/admin/conversations/${peer(8)}/block`, headers: auth }), 404, "BROKER_REJECTED");
  });

  it("POST /admin/messages sends a text (202) as a send action with an id, and refuses bad ones", async () => {
    const r = await app.inject({ method: "POST", url: "/admin/messages", headers: auth, payload: { conversation: CONV, text: "hello" } });
    expect(r.statusCode, r.body).toBe(202);
    const { id } = r.json<{ ok: boolean; id: string }>();
    expect(id).toMatch(/^gw-/);
    expect(fx.state.sent).toContainEqual({ id, conversation: CONV, text: "hello" });
    const withId = await app.inject({ method: "POST", url: "/admin/messages", headers: auth, payload: { conversation: CONV, text: "again", id: "client-key-1" } });
    expect(withId.json()).toEqual({ v: 1, ok: true, id: "client-key-1" });
    for (const payload of [
      { conversation: CONV },
      { conversation: CONV, text: "" },
      { conversation: CONV, text: "x".repeat(2001) },
      { text: "hi" },
      { conversation: "05abc", text: "hi" },
      { conversation: CONV, text: "hi", id: "bad id with spaces" },
    ]) {
      expectProblem(await app.inject({ method: "POST", url: "/admin/messages", headers: auth, payload }), 400, "VALIDATION_FAILED");
    }
  });

  it("a refusal by the broker keeps its status and code (409 blocked)", async () => {
    await app.inject({ method: "POST", url: `/admin/conversations/${CONV}/block`, headers: auth });
    const r = await app.inject({ method: "POST", url: "/admin/messages", headers: auth, payload: { conversation: CONV, text: "hi" } });
    expect(expectProblem(r, 409, "BROKER_REJECTED").upstreamCode).toBe("CONVERSATION_BLOCKED");
    await app.inject({ method: "POST", url: `/admin/conversations/${CONV}/unblock`, headers: auth });
  });
});

describe("dead letters", () => {
  it("GET lists and POST retry reaches the broker", async () => {
    const list = await app.inject({ url: "/admin/dead-letters", headers: auth });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json<{ items: { id: string; reason: { code: string } }[] }>().items).toMatchObject([{ id: "SB_INBOUND:7", reason: { code: "MAX_DELIVER" } }]);
    const r = await app.inject({ method: "POST", url: "/admin/dead-letters/SB_INBOUND:7/retry", headers: auth });
    expect(r.json()).toEqual({ v: 1, ok: true, id: "SB_INBOUND:7:retry:1" });
    expect(fx.state.retried).toEqual(["SB_INBOUND:7"]);
    expectProblem(await app.inject({ method: "POST", url: "/admin/dead-letters/SB_INBOUND:9/retry", headers: auth }), 404, "BROKER_REJECTED");
    expectProblem(await app.inject({ method: "POST", url: "/admin/dead-letters/a%20b/retry", headers: auth }), 400, "VALIDATION_FAILED");
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
      payload: JSON.stringify({ conversation: CONV, text: "x".repeat(70 * 1024) }),
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
    const page = await app.inject({ url: "/ui/" });
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.headers["content-security-policy"]).not.toContain("unsafe-inline");
    expect(page.headers["content-security-policy"]).toContain("frame-ancestors 'none'");
  });
});
