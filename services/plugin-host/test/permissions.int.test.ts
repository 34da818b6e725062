/**
 * plugin-host under the deployment's NATS permissions (deploy/nats/auth.conf, user `plugin-host`):
 * least privilege must still let it start, consume, reply, keep state and answer $SRV. (A denied
 * subscription, e.g. its stats endpoint, takes its whole $SRV registration down: this catches it.)
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Svcm } from "@nats-io/services";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import {
  OUTBOUND_STREAM,
  PLUGINS_BUCKET,
  PLUGIN_HOST_SERVICE,
  PLUGIN_MANIFESTS_BUCKET,
  STREAMS,
  decodeOutboundAction,
  encodeInboundEvent,
  inboundSubjectOf,
  parseWorkerStats,
} from "@session-bot/protocol";
import { pino } from "pino";
import { buildApp, type App } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { loadPlugins } from "../src/plugins/loader.js";
import { BOT, message, peer, waitFor } from "./helpers.js";

const AUTH_CONF = fileURLToPath(new URL("../../../deploy/nats/auth.conf", import.meta.url));
const PASSWORDS = { NATS_BROKER_PASSWORD: "brokerPw1", NATS_PLUGIN_HOST_PASSWORD: "hostPw1", NATS_GATEWAY_PASSWORD: "gatewayPw1" };

let nats: TestNats;
let broker: NatsConnection;
let hostNc: NatsConnection;
let app: App;
const errors: string[] = [];

beforeAll(async () => {
  Object.assign(process.env, PASSWORDS); // the spawned nats-server reads them from its environment
  nats = await startNats({ kind: "binary", extraConfig: readFileSync(AUTH_CONF, "utf8") });
  broker = await connect({ servers: nats.url, user: "broker", pass: PASSWORDS.NATS_BROKER_PASSWORD });
  const jsm = await jetstreamManager(broker);
  for (const s of [STREAMS.inbound, STREAMS.outbound, STREAMS.deadLetter]) await jsm.streams.add({ name: s.name, subjects: [...s.subjects] });
  const kvm = new Kvm(broker);
  await kvm.create(PLUGINS_BUCKET);
  await kvm.create(PLUGIN_MANIFESTS_BUCKET);
  hostNc = await connect({ servers: nats.url, user: "plugin-host", pass: PASSWORDS.NATS_PLUGIN_HOST_PASSWORD });
  void (async () => {
    for await (const s of hostNc.status()) if (s.type === "error") errors.push(String((s as { error?: unknown }).error));
  })();
  const config = loadConfig({ SB_BOT: BOT, NATS_URL: nats.url, SB_PARTITIONS: "4", PLUGIN_HOST_INSTANCE: "least-privilege" });
  app = buildApp({ nc: hostNc, config, log: pino({ level: "silent" }), plugins: await loadPlugins(config.plugins, undefined), version: "0.0.0-test" });
  await app.start();
});

afterAll(async () => {
  await app?.stop(200);
  await hostNc?.close();
  await broker?.close();
  await nats?.stop();
});

describe("plugin-host with the deployment's NATS permissions", () => {
  it("consumes, replies and answers $SRV without a permission error", async () => {
    const ev = message(peer(1), "/remind in 1h permissions");
    await jetstream(broker).publish(inboundSubjectOf(ev, 4), encodeInboundEvent(ev), { msgID: ev.id });
    const reply = await waitFor(async () => {
      const info = await (await jetstreamManager(broker)).streams.info(OUTBOUND_STREAM);
      if (info.state.messages === 0) return undefined;
      const m = await (await jetstreamManager(broker)).streams.getMessage(OUTBOUND_STREAM, { seq: 1 });
      return m ? decodeOutboundAction(m.data) : undefined;
    }, 15_000, "a reply");
    expect(reply).toMatchObject({ action: "send", plugin: "reminders" });
    const found: unknown[] = [];
    for await (const s of await new Svcm(broker as never).client().stats(PLUGIN_HOST_SERVICE)) found.push(s);
    expect(found).toHaveLength(1);
    expect(parseWorkerStats((found[0] as { endpoints: Array<{ data: unknown }> }).endpoints[0]!.data).handled).toBe(1);
    expect(errors).toEqual([]);
  });
});
