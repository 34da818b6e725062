import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JetStreamPublisher, PUBLISH_ERROR_CODES, isPublishError } from "../src/index.js";

let nats: TestNats;
let nc: NatsConnection;
let jsm: JetStreamManager;
const enc = (s: string) => new TextEncoder().encode(s);

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected a rejection");
}

beforeAll(async () => {
  nats = await startNats({ kind: "binary" });
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: "PUB", subjects: ["pub.>"], duplicate_window: 60_000_000_000 });
});
afterAll(async () => {
  await nc?.close();
  await nats?.stop();
});

describe("JetStreamPublisher", () => {
  it("resolves with the stream's ack, in publish order, and stores the headers", async () => {
    const p = new JetStreamPublisher(nc);
    const h = headers();
    h.set("Sb-Test", "yes");
    const acks = await Promise.all(Array.from({ length: 500 }, (_, i) => p.publish(`pub.order`, enc(String(i)), { msgID: `order-${i}`, headers: h })));
    expect(acks.every((a) => a.stream === "PUB" && !a.duplicate)).toBe(true);
    const seqs = acks.map((a) => a.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(500);
    const stored = await jsm.streams.getMessage("PUB", { seq: seqs[7]! });
    expect(new TextDecoder().decode(stored!.data)).toBe("7");
    expect(stored!.header.get("Sb-Test")).toBe("yes");
    expect(stored!.header.get("Nats-Msg-Id")).toBe("order-7");
    expect(p.inFlight).toBe(0);
    p.close();
  });

  it("reports a duplicate msgID as duplicate, storing nothing new", async () => {
    const p = new JetStreamPublisher(nc);
    const first = await p.publish("pub.dup", enc("a"), { msgID: "dup-1" });
    const again = await p.publish("pub.dup", enc("b"), { msgID: "dup-1" });
    expect(first.duplicate).toBe(false);
    expect(again).toEqual({ stream: "PUB", seq: first.seq, duplicate: true });
    p.close();
  });

  it("refuses with typed errors: wrong expected stream, no stream", async () => {
    const p = new JetStreamPublisher(nc);
    const wrong = await failure(p.publish("pub.x", enc("a"), { expectStream: "OTHER" }));
    expect(isPublishError(wrong, PUBLISH_ERROR_CODES.REFUSED)).toBe(true);
    expect((wrong as { apiCode?: number }).apiCode).toBe(10060);
    const none = await failure(p.publish("nowhere.x", enc("a")));
    expect(isPublishError(none, PUBLISH_ERROR_CODES.NO_STREAM)).toBe(true);
    p.close();
  });

  it("times out when nothing acks, and ignores the late answer", async () => {
    // A plain subscriber that never answers: no "no responders", no ack.
    const silent = nc.subscribe("silent.x", {
      callback: () => undefined,
    });
    await nc.flush();
    const p = new JetStreamPublisher(nc, { timeoutMs: 200 });
    const err = await failure(p.publish("silent.x", enc("a")));
    expect(isPublishError(err, PUBLISH_ERROR_CODES.TIMEOUT)).toBe(true);
    expect(p.inFlight).toBe(0);
    silent.unsubscribe();
    p.close();
  });

  it("rejects what waits and what comes after close() or the connection closing", async () => {
    const other = await connect({ servers: nats.url });
    const silent = other.subscribe("silent.y", { callback: () => undefined });
    await other.flush();
    const p = new JetStreamPublisher(other, { timeoutMs: 60_000 });
    const waiting = p.publish("silent.y", enc("a"));
    p.close();
    expect(isPublishError(await failure(waiting), PUBLISH_ERROR_CODES.CLOSED)).toBe(true);
    expect(isPublishError(await failure(p.publish("pub.z", enc("a"))), PUBLISH_ERROR_CODES.CLOSED)).toBe(true);

    const q = new JetStreamPublisher(other, { timeoutMs: 60_000 });
    const pending = q.publish("silent.y", enc("b"));
    silent.unsubscribe();
    await other.close();
    expect(isPublishError(await failure(pending), PUBLISH_ERROR_CODES.CLOSED)).toBe(true);
    expect(isPublishError(await failure(q.publish("pub.z", enc("a"))), PUBLISH_ERROR_CODES.CLOSED)).toBe(true);
  });

  it("answers a reply that is not an ack with PUBLISH_BAD_ACK", async () => {
    const liar = nc.subscribe("liar.x", { callback: (_e, m) => void m.respond(enc("not json")) });
    const liar2 = nc.subscribe("liar.y", { callback: (_e, m) => void m.respond(enc('{"hello":1}')) });
    await nc.flush();
    const p = new JetStreamPublisher(nc);
    expect(isPublishError(await failure(p.publish("liar.x", enc("a"))), PUBLISH_ERROR_CODES.BAD_ACK)).toBe(true);
    expect(isPublishError(await failure(p.publish("liar.y", enc("a"))), PUBLISH_ERROR_CODES.BAD_ACK)).toBe(true);
    liar.unsubscribe();
    liar2.unsubscribe();
    p.close();
  });
});
