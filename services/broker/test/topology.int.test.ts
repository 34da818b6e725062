// ensureTopology against a real nats-server: creates, then updates, idempotently.
import { jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, nanos, type NatsConnection } from "@nats-io/transport-node";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import { PLUGIN_MANIFESTS_BUCKET, PLUGINS_BUCKET } from "@session-bot/protocol";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { ensureTopology } from "../src/nats/setup.js";

let nats: TestNats;
let nc: NatsConnection;
const log = pino({ level: "silent" });
const MNEMONIC = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";

beforeAll(async () => {
  nats = await startNats({ kind: "binary" });
  nc = await connect({ servers: nats.url });
}, 60_000);
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

describe("ensureTopology", () => {
  it("creates streams, consumers and buckets, and applies changed settings on the next start", async () => {
    const c1 = loadConfig({ SESSION_MNEMONIC: MNEMONIC, SB_BOT: "topo", BROKER_INBOUND_MAX_AGE_S: "3600", BROKER_OUTBOUND_MAX_DELIVER: "4", BROKER_OUTBOUND_BACKOFF_MS: "100,200,300,400,500" });
    const topo = await ensureTopology(nc, c1, log);
    expect(topo).toEqual({ outboundConsumer: "sb_broker_out_topo", deadLetterConsumer: "sb_broker_dead_topo" });
    const jsm = await jetstreamManager(nc);
    const inbound = await jsm.streams.info("SB_INBOUND");
    expect(inbound.config).toMatchObject({ subjects: ["sb.in.>"], max_age: nanos(3_600_000), duplicate_window: nanos(120_000), num_replicas: 1, max_msg_size: 1_048_576 });
    expect((await jsm.streams.info("SB_OUTBOUND")).config.subjects).toEqual(["sb.out.>"]);
    expect((await jsm.streams.info("SB_DEAD")).config.subjects).toEqual(["sb.dead.>"]);
    const out = await jsm.consumers.info("SB_OUTBOUND", "sb_broker_out_topo");
    // max_deliver 4 allows at most 3 backoff steps.
    expect(out.config).toMatchObject({ durable_name: "sb_broker_out_topo", filter_subject: "sb.out.topo.>", max_deliver: 4, ack_policy: "explicit" });
    expect(out.config.backoff).toEqual([nanos(100), nanos(200), nanos(300)]);
    expect((await jsm.consumers.info("SB_DEAD", "sb_broker_dead_topo")).config.filter_subject).toBe("sb.dead.topo");
    const kvm = new Kvm(nc);
    const names: string[] = [];
    for await (const s of kvm.list()) names.push(s.bucket);
    expect(names).toEqual(expect.arrayContaining([PLUGINS_BUCKET, PLUGIN_MANIFESTS_BUCKET]));

    // Second start, new settings: same names, updated configuration, no error.
    const c2 = loadConfig({ SESSION_MNEMONIC: MNEMONIC, SB_BOT: "topo", BROKER_INBOUND_MAX_AGE_S: "7200", BROKER_DUPLICATE_WINDOW_S: "60", BROKER_OUTBOUND_MAX_DELIVER: "6" });
    await ensureTopology(nc, c2, log);
    expect((await jsm.streams.info("SB_INBOUND")).config).toMatchObject({ max_age: nanos(7_200_000), duplicate_window: nanos(60_000) });
    expect((await jsm.consumers.info("SB_OUTBOUND", "sb_broker_out_topo")).config.max_deliver).toBe(6);
    // A second bot shares the streams and gets its own consumers.
    await ensureTopology(nc, loadConfig({ SESSION_MNEMONIC: MNEMONIC, SB_BOT: "other" }), log);
    expect((await jsm.consumers.info("SB_OUTBOUND", "sb_broker_out_other")).config.filter_subject).toBe("sb.out.other.>");
  });

  it("fails with BROKER_NATS_SETUP when JetStream refuses", async () => {
    // Another stream already captures sb.in.> on this server: SB_INBOUND cannot be created.
    const other = await startNats({ kind: "binary" });
    const oc = await connect({ servers: other.url });
    try {
      await (await jetstreamManager(oc)).streams.add({ name: "SQUATTER", subjects: ["sb.in.>"] });
      const err: unknown = await ensureTopology(oc, loadConfig({ SESSION_MNEMONIC: MNEMONIC, SB_BOT: "topo" }), log).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "BROKER_NATS_SETUP", transient: true });
      expect((err as Error).cause).toBeDefined();
    } finally {
      await oc.close();
      await other.stop();
    }
  });
});
