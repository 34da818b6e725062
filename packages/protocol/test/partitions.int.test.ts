// The ordering design of PROTOCOL.md §6.2 against a real nats-server: events published with the
// protocol's subject builders, one durable consumer per partition with max_ack_pending = 1, several
// workers (separate connections) pulling from every partition with random delays and transient
// failures (nak with delay). Each conversation must be handled in publish order, never by two
// workers at once, and JetStream must de-duplicate on Nats-Msg-Id.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { AckPolicy, jetstream, jetstreamManager, type Consumer } from "@nats-io/jetstream";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import {
  STREAMS,
  decodeInboundEvent,
  encodeInboundEvent,
  inboundPartitionFilter,
  inboundSubjectOf,
  parseInboundSubject,
  partitionOf,
  pluginHostConsumer,
  type MessageEvent,
} from "../src/index.js";

const BOT = "orderbot";
const PARTITIONS = 4;
const WORKERS = 3;
const CONVERSATIONS = 10;
const EVENTS_PER_CONVERSATION = 12;

// Session IDs are hex of random public keys: derive random-looking ones from a fixed seed.
const IDS = Array.from({ length: CONVERSATIONS }, (_, i) => {
  let seed = 0x9e3779b9 ^ (i + 1);
  let id = "05";
  for (let j = 0; j < 64; j++) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    id += "0123456789abcdef"[(seed >>> 16) & 15];
  }
  return id;
});

function conversationId(i: number): string {
  return IDS[i]!;
}

function event(conv: number, seq: number): MessageEvent {
  const conversation = conversationId(conv);
  return {
    v: 1,
    id: `evt-${conv}-${seq}`,
    bot: BOT,
    conversation,
    sender: conversation,
    timestamp: 1_700_000_000_000 + seq,
    receivedAt: 1_700_000_000_000 + seq,
    kind: "message",
    text: String(seq),
    attachments: [],
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe("partitioned inbound consumers (real nats-server)", () => {
  let nats: TestNats;
  let nc: NatsConnection;

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.drain();
    await nats?.stop();
  });

  it("keeps each conversation in order and never concurrent across workers", async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: STREAMS.inbound.name, subjects: [...STREAMS.inbound.subjects], duplicate_window: 120_000_000_000 });
    for (let p = 0; p < PARTITIONS; p++) {
      await jsm.consumers.add(STREAMS.inbound.name, {
        durable_name: pluginHostConsumer(BOT, p),
        filter_subject: inboundPartitionFilter(BOT, p),
        ack_policy: AckPolicy.Explicit,
        max_ack_pending: 1,
        ack_wait: 10_000_000_000,
        max_deliver: 10,
      });
    }

    // Publish interleaved across conversations, as the broker would.
    const js = jetstream(nc);
    for (let seq = 0; seq < EVENTS_PER_CONVERSATION; seq++) {
      for (let conv = 0; conv < CONVERSATIONS; conv++) {
        const e = event(conv, seq);
        const ack = await js.publish(inboundSubjectOf(e, PARTITIONS), encodeInboundEvent(e), { msgID: e.id });
        expect(ack.duplicate).toBe(false);
      }
    }
    // A replay (broker restarted before its cursor advanced) is de-duplicated by Nats-Msg-Id.
    const replay = event(0, 0);
    expect((await js.publish(inboundSubjectOf(replay, PARTITIONS), encodeInboundEvent(replay), { msgID: replay.id })).duplicate).toBe(true);

    // The test only proves something if conversations share partitions.
    const used = new Set(Array.from({ length: CONVERSATIONS }, (_, i) => partitionOf(conversationId(i), PARTITIONS)));
    expect(used.size).toBeGreaterThan(1);
    expect(used.size).toBeLessThan(CONVERSATIONS);

    const total = CONVERSATIONS * EVENTS_PER_CONVERSATION;
    const handled = new Map<string, number[]>(); // conversation → seqs in handling order
    const inFlight = new Map<string, number>(); // conversation → worker
    const byWorker = new Array<number>(WORKERS).fill(0);
    let overlaps = 0;
    let naks = 0;
    let count = 0;
    let stop = false;

    const workerConns = await Promise.all(Array.from({ length: WORKERS }, () => connect({ servers: nats.url })));
    const loops: Promise<void>[] = [];
    for (let w = 0; w < WORKERS; w++) {
      const wjs = jetstream(workerConns[w]!);
      for (let p = 0; p < PARTITIONS; p++) {
        const consumer: Consumer = await wjs.consumers.get(STREAMS.inbound.name, pluginHostConsumer(BOT, p));
        loops.push(
          (async () => {
            while (!stop) {
              const msg = await consumer.next({ expires: 1_000 });
              if (msg === null) continue;
              const e = decodeInboundEvent(msg.data);
              const parts = parseInboundSubject(msg.subject);
              expect(parts).toEqual({ bot: BOT, partition: p, kind: e.kind });
              if (inFlight.has(e.conversation)) overlaps++;
              inFlight.set(e.conversation, w);
              await sleep(Math.floor(Math.random() * 4));
              const seq = Number(e.kind === "message" ? e.text : -1);
              if (seq % 5 === 2 && msg.info.deliveryCount === 1) {
                // Transient failure: the event must come back before the next one of its partition.
                naks++;
                inFlight.delete(e.conversation);
                msg.nak(30);
                continue;
              }
              const list = handled.get(e.conversation) ?? [];
              list.push(seq);
              handled.set(e.conversation, list);
              byWorker[w]!++;
              count++;
              inFlight.delete(e.conversation);
              await msg.ackAck();
            }
          })(),
        );
      }
    }

    const deadline = Date.now() + 45_000;
    while (count < total && Date.now() < deadline) await sleep(50);
    stop = true;
    await Promise.all(loops);
    await Promise.all(workerConns.map((c) => c.drain()));

    expect(count).toBe(total);
    expect(overlaps).toBe(0);
    expect(naks).toBeGreaterThan(0);
    const expected = Array.from({ length: EVENTS_PER_CONVERSATION }, (_, i) => i);
    for (let conv = 0; conv < CONVERSATIONS; conv++) expect(handled.get(conversationId(conv))).toEqual(expected);
    // Work really was spread over several workers.
    expect(byWorker.filter((n) => n > 0).length).toBeGreaterThan(1);
  });
});
