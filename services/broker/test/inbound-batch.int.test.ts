// The inbound poll round as a batch, against a real nats-server, the devnet and a SQLite file:
// pipelined publishes keep each conversation's order, and a publish the stream refuses loses
// nothing, duplicates nothing and keeps the cursor (the stream refuses for real: its max_msg_size
// is lowered below the size of one long message, then raised again).
import { rmSync } from "node:fs";
import { join } from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startDevnet, type Devnet } from "@session-bot/devnet";
import { JetStreamPublisher } from "@session-bot/js-publisher";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import { INBOUND_STREAM } from "@session-bot/protocol";
import { Identity, SessionClient } from "@session-bot/session";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { newCounters } from "../src/counters.js";
import { openDatabase, type OpenDatabase } from "../src/db/database.js";
import { BrokerStore } from "../src/db/store.js";
import { Poller } from "../src/inbound/poller.js";
import { RateLimiter } from "../src/inbound/rate-limiter.js";
import { createMetrics } from "../src/metrics.js";
import { ensureTopology } from "../src/nats/setup.js";
import { SqliteStorage } from "../src/session/sqlite-storage.js";
import { devnetNetwork, eventually, inboundEvents, makePeer, tempDir } from "./helpers.js";

const BOT = "batchbot";
let nats: TestNats;
let net: Devnet;
let nc: NatsConnection;
let dir: string;
let database: OpenDatabase;
let store: BrokerStore;
let bot: SessionClient;
let botNetwork: ReturnType<typeof devnetNetwork>;
let poller: Poller;
const closers: (() => Promise<void>)[] = [];

/** Sets SB_INBOUND's max_msg_size; returns the previous value. */
async function setMaxMsgSize(bytes: number): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(INBOUND_STREAM);
  await jsm.streams.update(INBOUND_STREAM, { ...info.config, max_msg_size: bytes });
  return info.config.max_msg_size ?? -1;
}

async function peer() {
  const p = await makePeer(net);
  closers.push(() => p.network.close());
  return p;
}

beforeAll(async () => {
  [nats, net] = await Promise.all([startNats({ kind: "binary" }), startDevnet({ http: true, snodeCount: 3, swarmCount: 1 })]);
  dir = tempDir();
  const identity = await Identity.generate();
  const config = loadConfig({ SB_BOT: BOT, SB_PARTITIONS: "4", SESSION_MNEMONIC: identity.mnemonic(), SESSION_NETWORK: "devnet", SESSION_SEED_URLS: net.seedUrls.join(","), SESSION_FILE_SERVER_URL: net.fileServerUrl, NATS_URL: nats.url });
  nc = await connect({ servers: nats.url, noAsyncTraces: true });
  const log = pino({ level: "silent" });
  await ensureTopology(nc, { bot: BOT, streams: config.streams, outbound: config.outbound }, log);
  database = openDatabase(join(dir, "broker.sqlite"));
  store = new BrokerStore(database.db);
  botNetwork = devnetNetwork(net);
  bot = await SessionClient.create({ identity, network: botNetwork, storage: new SqliteStorage(store) });
  poller = new Poller({
    bot: BOT,
    partitions: 4,
    pollIntervalMs: 100,
    busyPollIntervalMs: 0,
    autoAcceptRequests: false,
    fault: "none",
    client: bot,
    publisher: new JetStreamPublisher(nc),
    store,
    limiter: new RateLimiter({ perMinute: 10_000, burst: 10_000 }),
    metrics: createMetrics(),
    counters: newCounters(),
    log,
  });
}, 120_000);

afterAll(async () => {
  for (const c of closers) await c();
  await bot?.close();
  await botNetwork?.close();
  await nc?.close();
  database?.close();
  await Promise.allSettled([nats?.stop(), net?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("an inbound poll batch", () => {
  it("publishes many messages of several conversations once each, each conversation in send order", async () => {
    const [a, b, c] = await Promise.all([peer(), peer(), peer()]);
    const sent = new Map<string, string[]>();
    // Interleaved on the swarm: a0 b0 c0 a1 b1 c1 ...
    for (let i = 0; i < 12; i++) {
      for (const p of [a, b, c]) {
        const m = await p.client.sendText(bot.sessionId, `n${i}`);
        sent.set(p.client.sessionId, [...(sent.get(p.client.sessionId) ?? []), m.hash]);
      }
    }
    let published = 0;
    for (let round = 0; round < 5 && published < 36; round++) published += await poller.pollRound();
    expect(published).toBe(36);
    expect(await poller.pollRound()).toBe(0);

    const events = await inboundEvents(nc, BOT);
    expect(events).toHaveLength(36);
    for (const [conversation, hashes] of sent) {
      expect(events.filter((e) => e.event.conversation === conversation).map((e) => e.event.id)).toEqual(hashes);
    }
    for (const hashes of sent.values()) for (const h of hashes) expect(store.dedupOutcome(h)).toBe("published");
  }, 120_000);

  it("a publish the stream refuses: the rest of its conversation waits, other conversations go on, nothing is lost or repeated, the cursor stays", async () => {
    const before = (await inboundEvents(nc, BOT)).length;
    const [a, b] = await Promise.all([peer(), peer()]);
    const a1 = await a.client.sendText(bot.sessionId, "a1 short");
    const b1 = await b.client.sendText(bot.sessionId, "b1 short");
    const a2 = await a.client.sendText(bot.sessionId, `a2 long ${"x".repeat(1500)}`);
    const b2 = await b.client.sendText(bot.sessionId, "b2 short");
    const a3 = await a.client.sendText(bot.sessionId, "a3 short");
    const b3 = await b.client.sendText(bot.sessionId, "b3 short");

    // Short events are ~0.5 KB, a2's is ~2 KB: the stream refuses a2 only.
    const previous = await setMaxMsgSize(1200);
    try {
      await expect(poller.pollRound()).rejects.toThrow(/maximum/i);
      const ids = () => inboundEvents(nc, BOT).then((es) => es.slice(before).map((e) => e.event.id));
      // a1 and all of b's: on the stream; a2 refused, so a3 was never sent.
      expect((await ids()).sort()).toEqual([a1.hash, b1.hash, b2.hash, b3.hash].sort());
      for (const m of [a1, b1, b2, b3]) expect(store.dedupOutcome(m.hash)).toBe("published");
      for (const m of [a2, a3]) {
        expect(store.dedupOutcome(m.hash)).toBeUndefined();
        expect(store.getMessage("in", m.hash)?.status).toBe("received");
      }
      // The cursor was not committed: a fresh poll (not committed either) returns a2 and a3 again.
      const again = await bot.pollOnce();
      expect(again.items.map((i) => i.hash)).toEqual(expect.arrayContaining([a2.hash, a3.hash]));

      // Still refused: a second round fails the same way and repeats nothing.
      await expect(poller.pollRound()).rejects.toThrow(/maximum/i);
      expect((await ids()).length).toBe(4);
    } finally {
      await setMaxMsgSize(previous);
    }

    // The stream accepts again: a2 then a3, once each, after a1.
    expect(await poller.pollRound()).toBe(2);
    const after = (await inboundEvents(nc, BOT)).slice(before);
    expect(after.map((e) => e.event.id).filter((id) => [a1.hash, a2.hash, a3.hash].includes(id))).toEqual([a1.hash, a2.hash, a3.hash]);
    expect(after.map((e) => e.event.id).filter((id) => [b1.hash, b2.hash, b3.hash].includes(id))).toEqual([b1.hash, b2.hash, b3.hash]);
    expect(after).toHaveLength(6);
    for (const m of [a2, a3]) {
      expect(store.dedupOutcome(m.hash)).toBe("published");
      expect(store.getMessage("in", m.hash)?.status).toBe("published");
    }
    // Committed now: nothing left to publish.
    expect(await poller.pollRound()).toBe(0);
  }, 120_000);

  it("polls again at once after a batch with messages, and waits the interval after an empty one", async () => {
    const a = await peer();
    await a.client.sendText(bot.sessionId, "wake up");
    const metrics = createMetrics();
    const slow = new Poller({
      bot: BOT,
      partitions: 4,
      pollIntervalMs: 60_000,
      busyPollIntervalMs: 100,
      autoAcceptRequests: false,
      fault: "none",
      client: bot,
      publisher: new JetStreamPublisher(nc),
      store,
      limiter: new RateLimiter({ perMinute: 10_000, burst: 10_000 }),
      metrics,
      counters: newCounters(),
      log: pino({ level: "silent" }),
    });
    const polls = async () => (await metrics.pollLatency.get()).values.find((v) => v.metricName === "sb_broker_poll_seconds_count")?.value ?? 0;
    slow.start();
    try {
      // Round 1 finds the message, round 2 follows at once (empty), then the 60 s interval.
      await eventually(async () => ((await polls()) === 2 ? true : undefined), 10_000, "two polls");
      await new Promise((r) => setTimeout(r, 1000));
      expect(await polls()).toBe(2);
      expect(slow.healthy).toBe(true);
    } finally {
      await slow.stop();
    }
  }, 60_000);
});
