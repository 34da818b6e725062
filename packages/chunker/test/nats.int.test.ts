import { randomBytes } from "node:crypto";
import { headers, type NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChunkError, encodeFragment, frameOverhead, split } from "../src/index.js";
import { HEADER_ROOM, publishChunked, requestChunked, serveChunked, subscribeChunked, type ChunkedService } from "../src/nats.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const MAX_PAYLOAD = 64 * KiB;

let nats: TestNats;
let client: NatsConnection;
let server: NatsConnection;
let subjectN = 0;
const subject = (): string => `t.chunk.${++subjectN}`;

async function rejection(p: Promise<unknown>): Promise<ChunkError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ChunkError);
    return e as ChunkError;
  }
  throw new Error("expected a rejection");
}

/** Waits until `cond()` holds (polling, bounded), for state that settles asynchronously. */
async function until(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function dataHeaders(): ReturnType<typeof headers> {
  const h = headers();
  h.set("Chunk-Op", "data");
  return h;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks this thread (and so its NATS socket reads) without burning CPU. */
const blockFor = (ms: number): void => void Atomics.wait(sleeper, 0, 0, ms);

beforeAll(async () => {
  // A small max_payload, so payloads take many fragments.
  nats = await startNats({ maxPayload: MAX_PAYLOAD });
  client = await connect({ servers: nats.url, name: "chunk-client" });
  server = await connect({ servers: nats.url, name: "chunk-server" });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await nats?.stop();
});

async function serve(...args: Parameters<typeof serveChunked>): Promise<ChunkedService> {
  const svc = serveChunked(...args);
  await args[0].flush(); // the subscription is known to the server before anyone asks
  return svc;
}

describe("requestChunked / serveChunked", () => {
  it("moves a 10 MB request and a 9 MB reply through max_payload 64 KiB, byte-identical, in many fragments", async () => {
    const s = subject();
    const request = randomBytes(10 * 1000 * 1000);
    const reply = randomBytes(9 * 1000 * 1000 + 17);
    let requestFragments = 0;
    let seen: Uint8Array | undefined;
    const svc = await serve(
      server,
      s,
      (req) => {
        seen = req;
        return reply;
      },
      { onFragment: (p) => (requestFragments = p.count) },
    );
    let replyFragments = 0;
    const got = await requestChunked(client, s, request, { onFragment: (p) => (replyFragments = p.count) });
    expect(Buffer.from(seen!).equals(request)).toBe(true);
    expect(Buffer.from(got).equals(reply)).toBe(true);
    // fragment size = max_payload − header room − frame overhead (32-char random id)
    const body = MAX_PAYLOAD - HEADER_ROOM - frameOverhead(32);
    expect(requestFragments).toBe(Math.ceil(request.length / body));
    expect(replyFragments).toBe(Math.ceil(reply.length / body));
    expect(requestFragments).toBeGreaterThan(150);
    await until(() => svc.active === 0);
    expect(svc.bufferedBytes).toBe(0);
    await svc.stop();
  });

  it("serves several concurrent callers, small and large", async () => {
    const s = subject();
    const svc = await serve(server, s, (req) => Uint8Array.from(req).reverse());
    const payloads = [0, 1, 100, 70 * KiB, 1 * MiB, 3 * MiB + 5].map((n) => randomBytes(n));
    const replies = await Promise.all(payloads.map((p) => requestChunked(client, s, p)));
    replies.forEach((r, i) => expect(Buffer.from(r).equals(Buffer.from(payloads[i]!).reverse())).toBe(true));
    await svc.stop();
  });

  it("a handler error comes back as CHUNK_REMOTE with the handler's code, not as a timeout", async () => {
    const s = subject();
    const svc = await serve(server, s, () => {
      throw Object.assign(new Error("no attachment 42"), { code: "ATTACHMENT_NOT_FOUND" });
    });
    const t0 = Date.now();
    const err = await rejection(requestChunked(client, s, randomBytes(2 * MiB), { timeoutMs: 20_000 }));
    expect(err.code).toBe("CHUNK_REMOTE");
    expect(err.remoteCode).toBe("ATTACHMENT_NOT_FOUND");
    expect(err.message).toContain("no attachment 42");
    expect(Date.now() - t0).toBeLessThan(20_000);
    await svc.stop();
    const s2 = subject();
    const rejecting = await serve(server, s2, () => Promise.reject(new Error("boom")));
    const err2 = await rejection(requestChunked(client, s2, new Uint8Array(3)));
    expect([err2.code, err2.remoteCode]).toEqual(["CHUNK_REMOTE", "HANDLER_ERROR"]);
    await rejecting.stop();
  });

  it("a request larger than the server's limit is refused up front with CHUNK_REMOTE / CHUNK_TOO_LARGE", async () => {
    const s = subject();
    let called = false;
    const svc = await serve(
      server,
      s,
      () => {
        called = true;
        return new Uint8Array(0);
      },
      { maxRequestBytes: 1 * MiB },
    );
    const err = await rejection(requestChunked(client, s, randomBytes(1 * MiB + 1)));
    expect([err.code, err.remoteCode]).toEqual(["CHUNK_REMOTE", "CHUNK_TOO_LARGE"]);
    expect(called).toBe(false);
    expect(svc.active).toBe(0);
    await svc.stop();
  });

  it("a reply larger than the caller's limit fails with CHUNK_TOO_LARGE and the server lets go of it", async () => {
    const s = subject();
    const svc = await serve(server, s, () => randomBytes(2 * MiB));
    const err = await rejection(requestChunked(client, s, new Uint8Array(1), { maxResponseBytes: 1 * MiB }));
    expect(err.code).toBe("CHUNK_TOO_LARGE");
    await until(() => svc.active === 0);
    await svc.stop();
  });

  it("more concurrent transfers than maxPending are refused with CHUNK_TOO_MANY_PENDING", async () => {
    const s = subject();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const svc = await serve(
      server,
      s,
      async () => {
        await gate;
        return new Uint8Array([1]);
      },
      { maxPending: 2 },
    );
    const first = [requestChunked(client, s, new Uint8Array(1)), requestChunked(client, s, new Uint8Array(2))];
    await until(() => svc.active === 2);
    const err = await rejection(requestChunked(client, s, new Uint8Array(3)));
    expect([err.code, err.remoteCode]).toEqual(["CHUNK_REMOTE", "CHUNK_TOO_MANY_PENDING"]);
    release();
    expect((await Promise.all(first)).map((r) => [...r])).toEqual([[1], [1]]);
    await svc.stop();
  });

  it("times out with CHUNK_TIMEOUT when the far side goes quiet", async () => {
    const s = subject();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const svc = await serve(server, s, async () => {
      await gate;
      return new Uint8Array(1);
    });
    const err = await rejection(requestChunked(client, s, new Uint8Array(10), { timeoutMs: 300 }));
    expect(err.code).toBe("CHUNK_TIMEOUT");
    release();
    await until(() => svc.active === 0);
    // a listener that takes the open and never answers at all
    const s2 = subject();
    const mute = server.subscribe(s2, { callback: () => undefined });
    await server.flush();
    expect((await rejection(requestChunked(client, s2, randomBytes(200 * KiB), { timeoutMs: 300 }))).code).toBe("CHUNK_TIMEOUT");
    mute.unsubscribe();
    await svc.stop();
  });

  it("a handler that never answers is cut off after handlerTimeoutMs: the caller gets CHUNK_TIMEOUT from the far side", async () => {
    const s = subject();
    const svc = await serve(server, s, () => new Promise<Uint8Array>(() => undefined), { handlerTimeoutMs: 200 });
    const err = await rejection(requestChunked(client, s, randomBytes(100 * KiB), { timeoutMs: 10_000 }));
    expect([err.code, err.remoteCode]).toEqual(["CHUNK_REMOTE", "CHUNK_TIMEOUT"]);
    expect(svc.active).toBe(0);
    await svc.stop();
  });

  it("the server times out a caller that stops sending mid-upload, frees it, and tells the caller", async () => {
    const s = subject();
    const errors: string[] = [];
    const svc = await serve(server, s, () => new Uint8Array(0), { timeoutMs: 300, onError: (e) => errors.push(e.code) });
    // hand-made caller: sends the open (fragment 0 of many) and then nothing
    const frags = split(randomBytes(500 * KiB), { maxFragmentBytes: 32 * KiB });
    const inbox = `_INBOX.quiet.${Date.now()}`;
    const replies: string[] = [];
    const sub = client.subscribe(inbox, { callback: (_e, m) => {
        replies.push(`${m.headers?.get("Chunk-Op")}:${m.headers?.get("Chunk-Error") || m.headers?.get("Chunk-Grant")}`);
      },
    });
    const h = headers();
    h.set("Chunk-Op", "open");
    h.set("Chunk-Version", "1");
    h.set("Chunk-Window", String(256 * KiB));
    client.publish(s, encodeFragment(frags[0]!), { reply: inbox, headers: h });
    await until(() => svc.active === 1);
    expect(svc.bufferedBytes).toBe(500 * KiB);
    await until(() => svc.active === 0);
    expect(svc.bufferedBytes).toBe(0);
    await until(() => replies.length === 2);
    expect(replies[0]).toMatch(/^credit:\d+$/);
    expect(replies[1]).toBe("error:CHUNK_TIMEOUT");
    expect(errors).toEqual(["CHUNK_TIMEOUT"]);
    sub.unsubscribe();
    await svc.stop();
  });

  it("a caller that sends beyond its credit gets CHUNK_FLOW and the transfer is freed", async () => {
    const s = subject();
    const errors: string[] = [];
    const svc = await serve(server, s, () => new Uint8Array(0), { windowBytes: 2 * 1000, onError: (e) => errors.push(e.code) });
    const frags = split(randomBytes(100 * 1000), { maxFragmentBytes: 1000 + frameOverhead(32) });
    const inbox = `_INBOX.greedy.${Date.now()}`;
    const replies: string[] = [];
    const sub = client.subscribe(inbox, {
      callback: (_e, m) => {
        const op = m.headers?.get("Chunk-Op");
        replies.push(`${op}:${m.headers?.get("Chunk-Error") || m.headers?.get("Chunk-Grant")}`);
        // on the first credit, send a fragment far beyond it
        if (op === "credit" && m.reply) client.publish(m.reply, encodeFragment(frags[50]!), { headers: dataHeaders() });
      },
    });
    const h = headers();
    h.set("Chunk-Op", "open");
    h.set("Chunk-Version", "1");
    h.set("Chunk-Window", "65536");
    client.publish(s, encodeFragment(frags[0]!), { reply: inbox, headers: h });
    await until(() => replies.length === 2);
    expect(replies).toEqual(["credit:3", "error:CHUNK_FLOW"]);
    expect(errors).toEqual(["CHUNK_FLOW"]);
    await until(() => svc.active === 0);
    expect(svc.bufferedBytes).toBe(0);
    sub.unsubscribe();
    await svc.stop();
  });

  it("grants credit exactly as the README specifies (a conformance check for other implementations)", async () => {
    /** The documented schedule: grants sent while fragments 0..count-1 arrive in order, starting from `initial`. */
    const schedule = (count: number, w: number, initial: number): number[] => {
      const out: number[] = [];
      let granted = initial;
      for (let received = 1; received <= count; received++) {
        if (granted < count && granted - received <= Math.floor(w / 2)) {
          granted = Math.min(count, received + w);
          out.push(granted);
        }
      }
      return out;
    };
    const s = subject();
    const body = 1000;
    const frame = body + frameOverhead(32);
    const svc = await serve(server, s, () => randomBytes(body * 17 + 1), { windowBytes: 4 * body, maxFragmentBytes: frame, inboxPrefix: "_INBOX.srv" });
    const seen = { toCaller: [] as number[], toServer: [] as number[] };
    const spy = client.subscribe("_INBOX.>", {
      callback: (_e, m) => {
        if (m.headers?.get("Chunk-Op") !== "credit") return;
        const g = Number(m.headers.get("Chunk-Grant"));
        (m.subject.startsWith("_INBOX.srv.") ? seen.toServer : seen.toCaller).push(g);
      },
    });
    await client.flush();
    const reply = await requestChunked(client, s, randomBytes(body * 20), { maxFragmentBytes: frame, windowBytes: 3 * body, inboxPrefix: "_INBOX.cli" });
    expect(reply.length).toBe(body * 17 + 1);
    await client.flush();
    // request: 20 fragments, server window 4, implicit initial grant 1 (the open)
    expect(seen.toCaller).toEqual(schedule(20, 4, 1));
    expect(seen.toCaller).toEqual([5, 7, 9, 11, 13, 15, 17, 19, 20]);
    // reply: 18 fragments, caller window 3, implicit initial grant min(18, 3)
    expect(seen.toServer).toEqual(schedule(18, 3, 3));
    expect(seen.toServer).toEqual([5, 7, 9, 11, 13, 15, 17, 18]);
    spy.unsubscribe();
    await svc.stop();
  });

  it("answers garbage on the service subject with a typed error and keeps serving", async () => {
    const s = subject();
    const errors: string[] = [];
    const svc = await serve(server, s, (req) => req, { onError: (e) => errors.push(e.code) });
    const bad = encodeFragment(split(randomBytes(100), { maxFragmentBytes: 1000 })[0]!);
    bad[bad.length - 10]! ^= 0x40;
    const raw = async (data: Uint8Array, op?: string): Promise<string> => {
      const h = headers();
      if (op) h.set("Chunk-Op", op);
      h.set("Chunk-Version", "1");
      h.set("Chunk-Window", "65536");
      const m = await client.request(s, data, { timeout: 5_000, headers: h });
      return `${m.headers?.get("Chunk-Op")}:${m.headers?.get("Chunk-Error")}`;
    };
    expect(await raw(bad, "open")).toBe("error:CHUNK_CORRUPT");
    expect(await raw(new Uint8Array([1, 2, 3]), "open")).toBe("error:CHUNK_MALFORMED");
    expect(await raw(new Uint8Array([9, 2, 3]), "open")).toBe("error:CHUNK_BAD_VERSION");
    expect(await raw(new Uint8Array(0), "data")).toBe("error:CHUNK_FLOW");
    expect(errors).toEqual(["CHUNK_CORRUPT", "CHUNK_MALFORMED", "CHUNK_BAD_VERSION", "CHUNK_FLOW"]);
    const ok = randomBytes(300 * KiB);
    expect(Buffer.from(await requestChunked(client, s, ok)).equals(ok)).toBe(true);
    await svc.stop();
  });

  it("no service on the subject: CHUNK_NO_RESPONDERS at once", async () => {
    expect((await rejection(requestChunked(client, "t.chunk.nobody", new Uint8Array(5), { timeoutMs: 10_000 }))).code).toBe("CHUNK_NO_RESPONDERS");
  });

  it("a queue group shares the subject; every transfer stays with the instance that took it", async () => {
    const s = subject();
    const server2 = await connect({ servers: nats.url });
    const hits = [0, 0];
    const a = await serve(server, s, (req) => ((hits[0]! += 1), req), { queue: "q", maxPending: 16 });
    const b = await serve(server2, s, (req) => ((hits[1]! += 1), req), { queue: "q", maxPending: 16 });
    const payloads = Array.from({ length: 12 }, (_, i) => randomBytes(200 * KiB + i));
    const got = await Promise.all(payloads.map((p) => requestChunked(client, s, p)));
    got.forEach((g, i) => expect(Buffer.from(g).equals(payloads[i]!)).toBe(true));
    expect(hits[0]! + hits[1]!).toBe(12);
    await a.stop();
    await b.stop();
    await server2.close();
  });

  it("stop({ abort: true }) ends transfers in progress with CHUNK_ABORTED sent to the caller", async () => {
    const s = subject();
    const svc = await serve(server, s, () => new Promise<Uint8Array>(() => undefined));
    const p = requestChunked(client, s, new Uint8Array(1), { timeoutMs: 10_000 });
    await until(() => svc.active === 1);
    await svc.stop({ abort: true });
    const err = await rejection(p);
    expect([err.code, err.remoteCode]).toEqual(["CHUNK_REMOTE", "CHUNK_ABORTED"]);
  });
});

describe("publishChunked / subscribeChunked with a slow receiver", () => {
  // A server whose per-connection pending limit is small, so a receiver that falls behind without
  // flow control is cut off as a slow consumer (the control test shows it). This one runs as the
  // local binary: a container's port forwarding buffers megabytes itself and hides slow consumers.
  let slowNats: TestNats;
  let tx: NatsConnection;
  beforeAll(async () => {
    slowNats = await startNats({ kind: "binary", maxPayload: MAX_PAYLOAD, extraConfig: "max_pending: 2MB" });
    tx = await connect({ servers: slowNats.url });
  });
  afterAll(async () => {
    await tx?.close();
    await slowNats?.stop();
  });

  it("CONTROL: without flow control, a slow receiver loses messages on this server (slow consumer)", async () => {
    const rx = await connect({ servers: slowNats.url, reconnect: false });
    let got = 0;
    rx.subscribe("t.raw.blast", {
      callback: () => {
        got += 1;
        blockFor(2);
      },
    });
    await rx.flush();
    const body = new Uint8Array(MAX_PAYLOAD - 1024);
    for (let i = 0; i < 512; i++) tx.publish("t.raw.blast", body);
    await tx.flush();
    await until(() => rx.isClosed(), 20_000);
    expect(got).toBeLessThan(512);
  });

  it("a deliberately slow receiver still gets everything, byte-identical (credit keeps the server's buffer small)", async () => {
    const s = subject();
    const rx = await connect({ servers: slowNats.url, reconnect: false });
    const statuses: string[] = [];
    void (async () => {
      for await (const st of rx.status()) statuses.push(st.type);
    })();
    const received: Uint8Array[] = [];
    const svc = subscribeChunked(
      rx,
      s,
      (payload) => {
        received.push(payload);
      },
      { windowBytes: 512 * KiB, onFragment: () => blockFor(2) },
    );
    await rx.flush();
    const payloads = [randomBytes(10 * 1000 * 1000), randomBytes(3 * MiB)];
    await Promise.all(payloads.map((p) => publishChunked(tx, s, p, { timeoutMs: 30_000 })));
    expect(received).toHaveLength(2);
    const byLen = new Map(received.map((r) => [r.length, r]));
    for (const p of payloads) expect(Buffer.from(byLen.get(p.length)!).equals(p)).toBe(true);
    expect(rx.isClosed()).toBe(false);
    expect(statuses).not.toContain("slowConsumer");
    expect(statuses).not.toContain("disconnect");
    await svc.stop();
    await rx.close();
  }, 120_000);
});

describe("publishChunked / subscribeChunked", () => {
  it("a receiver that throws fails the sender with CHUNK_REMOTE", async () => {
    const s = subject();
    const svc = subscribeChunked(server, s, () => {
      throw new Error("disk full");
    });
    await server.flush();
    const err = await rejection(publishChunked(client, s, randomBytes(1 * MiB)));
    expect([err.code, err.remoteCode]).toEqual(["CHUNK_REMOTE", "HANDLER_ERROR"]);
    expect(err.message).toContain("disk full");
    await svc.stop();
  });
});
