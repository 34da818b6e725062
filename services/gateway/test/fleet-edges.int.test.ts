/**
 * The fleet layer at its edges, on a real nats-server: nothing created yet, empty buckets,
 * broken manifests, concurrent plugin writers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import { MANIFESTS, setupBus } from "./fixtures/fleet.js";
import { auth, buildTestApp } from "./fixtures/app.js";

let nats: TestNats;
let nc: NatsConnection;
let app: FastifyInstance | undefined;

beforeAll(async () => {
  nats = await startNats();
});
afterEach(async () => {
  await app?.close();
  app = undefined;
  await nc?.close();
});
afterAll(async () => {
  await nats?.stop();
});

describe("before the broker created anything", () => {
  it("streams is an empty list and plugins is a 503 problem naming JetStream", async () => {
    nc = await connect({ servers: nats.url });
    app = await buildTestApp({ nc });
    const streams = await app.inject({ url: "/admin/streams", headers: auth });
    expect(streams.statusCode).toBe(200);
    expect(streams.json()).toEqual({ v: 1, items: [] });
    const plugins = await app.inject({ url: "/admin/plugins", headers: auth });
    expect(plugins.statusCode).toBe(503);
    expect(plugins.json()).toMatchObject({ code: "JETSTREAM_FAILED" });
    const patch = await app.inject({ method: "PATCH", url: "/admin/plugins/echo", headers: auth, payload: { enabled: true } });
    expect(patch.statusCode).toBe(503);
    expect(patch.json()).toMatchObject({ code: "JETSTREAM_FAILED" });
  });
});

describe("buckets and manifests", () => {
  it("empty buckets list no plugins; broken manifests are skipped; a config schema that does not compile is a 502", async () => {
    nc = await connect({ servers: nats.url });
    const kvm = new Kvm(nc);
    const manifests = await kvm.create("sb_plugin_manifests");
    await kvm.create("sb_plugins");
    app = await buildTestApp({ nc });
    expect((await app.inject({ url: "/admin/plugins", headers: auth })).json()).toEqual({ v: 1, items: [] });

    await manifests.put("garbage", "{not json");
    await manifests.put("wrongshape", JSON.stringify({ v: 1, name: "wrongshape" }));
    await manifests.put("misnamed", JSON.stringify({ ...MANIFESTS[0], name: "echo" }));
    await manifests.put("echo", JSON.stringify(MANIFESTS[0]));
    await manifests.put("regex", JSON.stringify({ ...MANIFESTS[1], name: "regex", configSchema: { type: "object", properties: { a: { type: "string", pattern: "(" } } } }));
    const list = await app.inject({ url: "/admin/plugins", headers: auth });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json<{ items: { name: string }[] }>().items.map((p) => p.name)).toEqual(["echo", "regex"]);

    const bad = await app.inject({ method: "PATCH", url: "/admin/plugins/regex", headers: auth, payload: { config: { a: "x" } } });
    expect(bad.statusCode).toBe(502);
    expect(bad.json()).toMatchObject({ code: "PLUGIN_MANIFEST_INVALID" });
    for (const name of ["garbage", "wrongshape", "misnamed"]) {
      const r = await app.inject({ method: "PATCH", url: `/admin/plugins/${name}`, headers: auth, payload: { enabled: true } });
      expect(r.json(), name).toMatchObject({ code: "PLUGIN_NOT_FOUND" });
    }
  });

  it("concurrent PATCHes all land (compare-and-set retries), none is lost", async () => {
    nc = await connect({ servers: nats.url });
    const { plugins } = await setupBus(nc, "casbot");
    app = await buildTestApp({ nc }, { bot: "casbot" });
    const writers = 6;
    const results = await Promise.all(
      Array.from({ length: writers }, (_, i) =>
        app!.inject({ method: "PATCH", url: "/admin/plugins/ping", headers: auth, payload: { config: { reply: `r${i}` } } }),
      ),
    );
    for (const r of results) expect(r.statusCode, r.body).toBe(200);
    // One revision per successful write (the bucket holds nothing else): each compare-and-set
    // saw the write before it, none overwrote another blindly.
    const final = (await plugins.get("casbot.ping"))!;
    expect(final.revision).toBe(writers);
    const finalReply = final.json<{ config: { reply: string } }>().config.reply;
    expect(results.map((r) => r.json<{ config: { reply: string } }>().config.reply)).toContain(finalReply);
  });
});
