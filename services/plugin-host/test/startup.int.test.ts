/** plugin-host waits for the broker's streams and buckets, and says so in /readyz meanwhile. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import { PLUGINS_BUCKET, PLUGIN_MANIFESTS_BUCKET, STREAMS, pluginHostConsumer } from "@session-bot/protocol";
import { pino } from "pino";
import { buildApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { loadPlugins } from "../src/plugins/loader.js";
import { BOT, waitFor } from "./helpers.js";

let nats: TestNats;
let nc: NatsConnection;

beforeAll(async () => {
  nats = await startNats({ kind: "binary" });
  nc = await connect({ servers: nats.url });
});

afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

describe("plugin-host start-up", () => {
  it("is not ready until the broker has created the streams and buckets, then starts by itself", async () => {
    const config = loadConfig({ SB_BOT: BOT, NATS_URL: nats.url, PLUGIN_HOST_PLUGINS: "@session-bot/plugin-echo", SB_PARTITIONS: "2", PLUGIN_HOST_INSTANCE: "early" });
    const app = buildApp({ nc, config, log: pino({ level: "silent" }), plugins: await loadPlugins(config.plugins, undefined), version: "0.0.0-test" });
    let started = false;
    const starting = app.start().then(() => (started = true));
    await waitFor(() => app.readiness().includes(`stream ${STREAMS.inbound.name}`), 10_000, "waiting reason");
    const notReady = await app.http.inject({ url: "/readyz" });
    expect(notReady.statusCode).toBe(503);
    expect(notReady.json<{ reasons: string[] }>().reasons).toContain("stream SB_INBOUND");
    expect(started).toBe(false);

    const jsm = await jetstreamManager(nc);
    for (const s of [STREAMS.inbound, STREAMS.outbound, STREAMS.deadLetter]) await jsm.streams.add({ name: s.name, subjects: [...s.subjects] });
    const kvm = new Kvm(nc);
    // A state bucket made beforehand with other settings is used as it is (made first: the host
    // only gets to state buckets once the shared buckets below exist).
    await kvm.create("sb_state_echo", { history: 5, description: "made by someone else" });
    await kvm.create(PLUGINS_BUCKET);
    await kvm.create(PLUGIN_MANIFESTS_BUCKET);
    await starting;
    expect(app.readiness()).toEqual([]);
    expect((await app.http.inject({ url: "/readyz" })).statusCode).toBe(200);
    // It created its partition consumers and the plugin's state bucket, and no stream.
    expect((await jsm.consumers.info(STREAMS.inbound.name, pluginHostConsumer(BOT, 1))).config.max_ack_pending).toBe(1);
    expect((await (await kvm.open("sb_state_echo")).status()).history).toBe(5);
    const streams: string[] = [];
    for await (const s of jsm.streams.list()) streams.push(s.config.name);
    expect(streams.sort()).toEqual(["KV_sb_plugin_manifests", "KV_sb_plugins", "KV_sb_state_echo", "SB_DEAD", "SB_INBOUND", "SB_OUTBOUND"]);
    await app.stop(100);
  });
});
