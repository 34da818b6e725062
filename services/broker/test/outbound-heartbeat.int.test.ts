// Outbound actions held longer than the consumer's ack wait (a slow swarm, a queue behind the
// conversation's earlier actions) report progress, so JetStream does not redeliver them. Real
// nats-server, devnet with injected latency, SQLite.
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startDevnet, type Devnet } from "@session-bot/devnet";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import { OUTBOUND_STREAM, PROTOCOL_VERSION, encodeOutboundAction, outboundSubject, type OutboundAction } from "@session-bot/protocol";
import { Identity, SessionClient } from "@session-bot/session";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type BrokerApp } from "../src/app.js";
import { loadConfig } from "../src/config.js";
import { openDatabase, type OpenDatabase } from "../src/db/database.js";
import { BrokerStore } from "../src/db/store.js";
import { SqliteStorage } from "../src/session/sqlite-storage.js";
import { devnetNetwork, eventually, tempDir } from "./helpers.js";

const BOT = "hbbot";
let nats: TestNats;
let net: Devnet;
let dir: string;
let nc: NatsConnection;
let database: OpenDatabase;
let app: BrokerApp;
let bot: SessionClient;
let botNetwork: ReturnType<typeof devnetNetwork>;

beforeAll(async () => {
  [nats, net] = await Promise.all([startNats({ kind: "binary" }), startDevnet({ http: true, snodeCount: 3, swarmCount: 1 })]);
  dir = tempDir();
  const identity = await Identity.generate();
  const config = loadConfig({
    SB_BOT: BOT,
    SESSION_MNEMONIC: identity.mnemonic(),
    SESSION_NETWORK: "devnet",
    SESSION_SEED_URLS: net.seedUrls.join(","),
    SESSION_FILE_SERVER_URL: net.fileServerUrl,
    BROKER_DATA_DIR: dir,
    NATS_URL: nats.url,
    BROKER_OUTBOUND_ACK_WAIT_MS: "1000",
    BROKER_POLL_INTERVAL_MS: "60000",
    LOG_LEVEL: "silent",
  });
  database = openDatabase(join(dir, "broker.sqlite"));
  botNetwork = devnetNetwork(net, undefined, { unhealthyAfterFailures: 1000 });
  bot = await SessionClient.create({ identity, network: botNetwork, storage: new SqliteStorage(new BrokerStore(database.db)) });
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
  app = buildApp({ config, log: pino({ level: "silent" }), nc, database, client: bot });
  await app.start();
}, 120_000);

afterAll(async () => {
  net?.faults.clear();
  await app?.stop();
  await bot?.close();
  await botNetwork?.close();
  await nc?.close();
  database?.close();
  await Promise.allSettled([nats?.stop(), net?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("outbound progress reports", () => {
  it("three sends to one slow conversation, each held ~2.5 ack waits: each sent once, none redelivered", async () => {
    const peer = (await Identity.generate()).sessionId;
    // Every store on the peer's swarm takes 1.2 s: the third action waits ~2.4 s, then sends for 1.2 s.
    for (const s of net.swarmFor(peer).snodes) net.faults.inject(s.pubkeyEd25519, { kind: "latency", ms: 1200 });
    const js = jetstream(nc);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const a = { v: PROTOCOL_VERSION, id: randomUUID(), bot: BOT, action: "send", conversation: peer, text: `slow ${i}` } as OutboundAction;
      ids.push(a.id);
      await js.publish(outboundSubject(BOT, "send"), encodeOutboundAction(a), { msgID: a.id });
    }
    for (const id of ids) await eventually(() => (app.store.getMessage("out", id)?.status === "sent" ? true : undefined), 30_000, `action ${id} sent`);
    net.faults.clear();

    const jsm = await jetstreamManager(nc);
    const info = await jsm.consumers.info(OUTBOUND_STREAM, `sb_broker_out_${BOT}`);
    expect(info.num_redelivered).toBe(0);
    const dup = (await app.metrics.registry.getSingleMetric("sb_broker_outbound_total")!.get()).values.find((v) => v.labels.result === "duplicate");
    expect(dup?.value ?? 0).toBe(0);
    expect(app.counters.sent).toBe(3);
  }, 60_000);
});
