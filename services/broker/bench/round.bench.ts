// Throughput of one inbound poll round (record in SQLite → publish to SB_INBOUND and wait for the
// acks → mark published + dedup), against a real nats-server and a SQLite file, for a batch of
// BENCH_N messages spread over BENCH_CONVERSATIONS conversations. Two ways, interleaved, best of
// BENCH_ROUNDS each:
//   - baseline: the previous algorithm, one message at a time (transaction, publish, await the
//     ack, transaction), re-implemented here over the same store and stream;
//   - broker: the broker's Poller.pollRound (batch transactions, publishes pipelined by
//     conversation, through @session-bot/js-publisher).
// The Session side is left out (a batch of already-decrypted events is handed to the round), so
// this measures the broker's part only. Prints messages/s of each and the ratio.
// Run: pnpm --filter @session-bot/broker bench:round
import { rmSync } from "node:fs";
import { join } from "node:path";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { connect, headers as natsHeaders } from "@nats-io/transport-node";
import { JetStreamPublisher } from "@session-bot/js-publisher";
import { startNats } from "@session-bot/nats-testing";
import { CONTENT_TYPE_JSON, HEADER_CONTENT_TYPE, HEADER_PROTOCOL_VERSION, INBOUND_STREAM, PROTOCOL_VERSION, encodeInboundEvent, inboundSubjectOf } from "@session-bot/protocol";
import type { PollBatch, SessionClient, SessionEvent } from "@session-bot/session";
import { pino } from "pino";
import { loadConfig } from "../src/config.js";
import { newCounters } from "../src/counters.js";
import { openDatabase } from "../src/db/database.js";
import { BrokerStore } from "../src/db/store.js";
import { logText, mapSessionEvent } from "../src/inbound/map-event.js";
import { Poller } from "../src/inbound/poller.js";
import { RateLimiter } from "../src/inbound/rate-limiter.js";
import { createMetrics } from "../src/metrics.js";
import { ensureTopology } from "../src/nats/setup.js";
import { tempDir } from "../test/helpers.js";

const N = Number(process.env.BENCH_N ?? 400);
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BOT = "benchbot";
const PARTITIONS = 16;

let seq = 0;
function batchOf(n: number): SessionEvent[] {
  const out: SessionEvent[] = [];
  for (let i = 0; i < n; i++) {
    const k = seq++;
    const hash = Buffer.from(`round-${k}`.padEnd(32, "x")).toString("base64").slice(0, 43);
    const sender = "05" + (i % CONVERSATIONS).toString(16).padStart(64, "b");
    out.push({ kind: "message", hash, sender, timestamp: 1_700_000_000_000 + k, expiration: 0, text: `/echo message number ${k}`, attachments: [], expirationMode: "off", expirationTimerSeconds: 0 });
  }
  return out;
}

/** The previous inbound loop: one message at a time, waiting for each ack. */
async function serialRound(events: SessionEvent[], store: BrokerStore, js: JetStreamClient): Promise<void> {
  for (const e of events) {
    if (store.dedupOutcome(e.hash) !== undefined) continue;
    const m = mapSessionEvent(BOT, e, Date.now());
    if (m.status !== "events") throw new Error("unexpected");
    const encoded = m.events.map((event) => ({ event, bytes: encodeInboundEvent(event) }));
    store.transaction(() => {
      store.touchConversation(e.sender, e.timestamp, "in", { approvedMe: true, countsAsMessage: true });
      for (const { event } of encoded) store.recordMessage({ conversationId: e.sender, direction: "in", ref: event.id, kind: event.kind, body: logText(event), status: "received", sentAt: e.timestamp });
    });
    for (const { event, bytes } of encoded) {
      const h = natsHeaders();
      h.set(HEADER_PROTOCOL_VERSION, String(PROTOCOL_VERSION));
      h.set(HEADER_CONTENT_TYPE, CONTENT_TYPE_JSON);
      await js.publish(inboundSubjectOf(event, PARTITIONS), bytes, { msgID: event.id, expect: { streamName: INBOUND_STREAM }, headers: h });
    }
    store.transaction(() => {
      for (const { event } of encoded) store.setMessageStatus("in", event.id, "published");
      store.markDedup(e.hash, "published");
    });
  }
}

const nats = await startNats({ kind: "binary" });
const dir = tempDir("sb-broker-round-");
try {
  const nc = await connect({ servers: nats.url, noAsyncTraces: true });
  const log = pino({ level: "silent" });
  const config = loadConfig({ SB_BOT: BOT, BROKER_DEV_IDENTITY: "1", NATS_URL: nats.url });
  await ensureTopology(nc, { bot: BOT, streams: config.streams, outbound: config.outbound }, log);
  const js = jetstream(nc);
  const open = openDatabase(join(dir, "broker.sqlite"));
  const store = new BrokerStore(open.db);
  let next: SessionEvent[] = [];
  const client = {
    pollOnce: () => Promise.resolve({ items: next.map((event) => ({ hash: event.hash, expiration: 0, status: "event" as const, event })), cursor: {}, duplicates: 0 } as unknown as PollBatch),
    commit: () => Promise.resolve(),
  } as unknown as SessionClient;
  const poller = new Poller({ bot: BOT, partitions: PARTITIONS, pollIntervalMs: 1000, busyPollIntervalMs: 0, autoAcceptRequests: false, fault: "none", client, publisher: new JetStreamPublisher(nc), store, limiter: new RateLimiter({ perMinute: 1e9, burst: 1e9 }), metrics: createMetrics(), counters: newCounters(), log });

  const best = { serial: Infinity, batch: Infinity };
  for (let r = 0; r < ROUNDS; r++) {
    const a = batchOf(N);
    let t = performance.now();
    await serialRound(a, store, js);
    best.serial = Math.min(best.serial, performance.now() - t);

    next = batchOf(N);
    t = performance.now();
    const published = await poller.pollRound();
    best.batch = Math.min(best.batch, performance.now() - t);
    if (published !== N) throw new Error(`published ${published} of ${N}`);
  }
  const rate = (ms: number) => ((N / ms) * 1000).toFixed(0);
  console.log(`inbound poll round, ${N} messages over ${CONVERSATIONS} conversations, best of ${ROUNDS}`);
  console.log(`  baseline (one at a time, await each ack): ${rate(best.serial)} msg/s`);
  console.log(`  broker (batch, pipelined by conversation): ${rate(best.batch)} msg/s`);
  console.log(`  ratio broker/baseline: ${(best.serial / best.batch).toFixed(2)}x`);
  open.close();
  await nc.close();
} finally {
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
}
