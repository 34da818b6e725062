// The broker in-process against a real nats-server and the devnet, with a temporary SQLite file.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { Svcm } from "@nats-io/services";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { requestChunked } from "@session-bot/chunker/nats";
import { startDevnet, type Devnet } from "@session-bot/devnet";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import {
  PROTOCOL_VERSION,
  brokerSubject,
  decodeAttachmentGetPayload,
  decodeAttachmentReply,
  encodeAttachmentGetRequest,
  encodeAttachmentPutPayload,
  encodeOutboundAction,
  outboundSubject,
  type OutboundAction,
} from "@session-bot/protocol";
import { Identity, SessionClient, type MessageEvent as SessionMessageEvent } from "@session-bot/session";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildApp, type BrokerApp } from "../src/app.js";
import { loadConfig, type BrokerConfig } from "../src/config.js";
import { openDatabase, type OpenDatabase } from "../src/db/database.js";
import { BrokerStore } from "../src/db/store.js";
import { RATE_LIMIT_NOTICE } from "../src/inbound/poller.js";
import { SqliteStorage } from "../src/session/sqlite-storage.js";
import { devnetNetwork, eventually, inboundEvents, makePeer, tempDir } from "./helpers.js";

const BOT = "itbot";
let nats: TestNats;
let net: Devnet;
let dir: string;
let nc: NatsConnection; // the broker's
let tc: NatsConnection; // the test's (a plugin's view)
let js: JetStreamClient;
let database: OpenDatabase;
let app: BrokerApp;
let bot: SessionClient;
let config: BrokerConfig;
let botNetwork: ReturnType<typeof devnetNetwork>;
const peers: { network: { close(): Promise<void> } }[] = [];

async function peer() {
  const p = await makePeer(net);
  peers.push(p);
  return p;
}

function action(a: Record<string, unknown>): OutboundAction {
  return { v: PROTOCOL_VERSION, id: randomUUID(), bot: BOT, ...a } as OutboundAction;
}

async function request(endpoint: string, body: unknown): Promise<{ ok: boolean; json: Record<string, unknown>; code?: string | undefined }> {
  const m = await tc.request(brokerSubject(BOT, endpoint), new TextEncoder().encode(JSON.stringify(body)), { timeout: 10_000 });
  const code = m.headers?.get("Nats-Service-Error-Code");
  return { ok: !code, json: JSON.parse(new TextDecoder().decode(m.data)) as Record<string, unknown>, code: m.headers?.get("Sb-Error-Code") || undefined };
}

function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  return app.metrics.registry.getSingleMetric(name)!.get().then((m) => {
    const v = m.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
    return v?.value ?? 0;
  });
}

beforeAll(async () => {
  [nats, net] = await Promise.all([startNats({ kind: "binary" }), startDevnet({ http: true, snodeCount: 6, swarmCount: 2 })]);
  dir = tempDir();
  const identity = await Identity.generate();
  config = loadConfig({
    SB_BOT: BOT,
    SB_PARTITIONS: "4",
    SESSION_MNEMONIC: identity.mnemonic(),
    SESSION_NETWORK: "devnet",
    SESSION_SEED_URLS: net.seedUrls.join(","),
    SESSION_FILE_SERVER_URL: net.fileServerUrl,
    BROKER_DATA_DIR: dir,
    NATS_URL: nats.url,
    BROKER_POLL_INTERVAL_MS: "100",
    BROKER_OUTBOUND_BACKOFF_MS: "200,400",
    BROKER_OUTBOUND_MAX_DELIVER: "3",
    BROKER_RATE_PER_MINUTE: "1",
    BROKER_RATE_BURST: "3",
    BROKER_DISPLAY_NAME: "It Bot",
    LOG_LEVEL: "silent",
  });
  database = openDatabase(join(dir, "broker.sqlite"));
  const storage = new SqliteStorage(new BrokerStore(database.db));
  // Few, fast retries and no setting-aside of snodes, so that injected faults play out in seconds.
  botNetwork = devnetNetwork(net, undefined, { retry: { attempts: 2, baseDelayMs: 10, maxDelayMs: 20 }, unhealthyAfterFailures: 1000 });
  bot = await SessionClient.create({ identity, network: botNetwork, storage, displayName: "It Bot" });
  nc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  tc = await connect({ servers: nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  js = jetstream(tc);
  app = buildApp({ config, log: pino({ level: "silent" }), nc, database, client: bot });
  await app.start();
}, 120_000);

afterAll(async () => {
  await app?.stop();
  await bot?.close();
  await botNetwork?.close();
  for (const p of peers) await p.network.close();
  await nc?.close();
  await tc?.close();
  database?.close();
  await Promise.allSettled([nats?.stop(), net?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("inbound", () => {
  it("a message from a Session client appears on SB_INBOUND exactly once, and the request is accepted", async () => {
    const alice = await peer();
    const sent = await alice.client.sendText(bot.sessionId, "hello bot");
    const events = await eventually(async () => {
      const all = (await inboundEvents(tc, BOT)).filter((e) => e.event.sender === alice.client.sessionId);
      return all.length > 0 ? all : undefined;
    }, 20_000, "the inbound event");
    expect(events[0]!.event).toMatchObject({ v: 1, kind: "message", id: sent.hash, bot: BOT, conversation: alice.client.sessionId, text: "hello bot", timestamp: sent.timestamp, attachments: [] });
    expect(events[0]!.msgId).toBe(sent.hash);
    expect(events[0]!.subject).toMatch(new RegExp(`^sb\\.in\\.${BOT}\\.[0-3]\\.message$`));
    // Several more poll rounds: still exactly one.
    await new Promise((r) => setTimeout(r, 800));
    expect((await inboundEvents(tc, BOT)).filter((e) => e.event.id === sent.hash)).toHaveLength(1);
    // Auto-accepted: the peer receives a message-request response from the bot.
    await eventually(async () => {
      await alice.poll();
      return alice.received.find((e) => e.kind === "messageRequestResponse" && e.sender === bot.sessionId);
    }, 20_000, "the request response");
    expect(app.store.getConversation(alice.client.sessionId)).toMatchObject({ approved: true, approvedMe: true, inboundCount: 1 });
    expect(app.store.getMessage("in", sent.hash)?.status).toBe("published");
    expect(await metric("sb_broker_inbound_total", { kind: "message" })).toBeGreaterThanOrEqual(1);
  });

  it("garbage on the swarm is counted and dropped without stopping the next message", async () => {
    const alice = await peer();
    const before = await metric("sb_broker_decrypt_failures_total");
    await alice.network.store({ pubkey: bot.sessionId, namespace: 0, data: randomBytes(200), ttlMs: 60_000 });
    await alice.network.store({ pubkey: bot.sessionId, namespace: 0, data: new TextEncoder().encode("not even protobuf"), ttlMs: 60_000 });
    const sent = await alice.client.sendText(bot.sessionId, "after the garbage");
    await eventually(async () => ((await inboundEvents(tc, BOT)).some((e) => e.event.id === sent.hash) ? true : undefined), 20_000, "the message after garbage");
    const failures = app.metrics.registry.getSingleMetric("sb_broker_decrypt_failures_total")!;
    const total = (await failures.get()).values.reduce((s, v) => s + v.value, 0);
    expect(total - before).toBeGreaterThanOrEqual(2);
  });

  it("rate-limits a flooding sender with one polite notice, and drops blocked senders", async () => {
    const flood = await peer();
    const hashes: string[] = [];
    for (let i = 0; i < 5; i++) hashes.push((await flood.client.sendText(bot.sessionId, `flood ${i}`)).hash);
    await eventually(() => (hashes.every((h) => app.store.getMessage("in", h)) ? true : undefined), 20_000, "all flood messages handled");
    const published = (await inboundEvents(tc, BOT)).filter((e) => e.event.sender === flood.client.sessionId);
    expect(published).toHaveLength(3);
    expect(hashes.map((h) => app.store.getMessage("in", h)!.status)).toEqual(["published", "published", "published", "dropped", "dropped"]);
    await eventually(async () => {
      await flood.poll();
      return flood.received.some((e) => e.kind === "message" && e.text === RATE_LIMIT_NOTICE) ? true : undefined;
    }, 20_000, "the notice");
    await new Promise((r) => setTimeout(r, 300));
    await flood.poll();
    expect(flood.received.filter((e) => e.kind === "message" && e.text === RATE_LIMIT_NOTICE)).toHaveLength(1);
    expect(await metric("sb_broker_rate_limited_total")).toBe(2);

    // Blocklist via the admin endpoint.
    const mallory = await peer();
    expect((await request("block", { v: 1, conversation: mallory.client.sessionId })).ok).toBe(true);
    const m = await mallory.client.sendText(bot.sessionId, "let me in");
    await eventually(() => (app.store.dedupOutcome(m.hash) ? true : undefined), 20_000, "the blocked message handled");
    expect(app.store.dedupOutcome(m.hash)).toBe("dropped");
    expect((await inboundEvents(tc, BOT)).some((e) => e.event.id === m.hash)).toBe(false);
    expect((await request("unblock", { v: 1, conversation: mallory.client.sessionId })).ok).toBe(true);
    const again = await request("unblock", { v: 1, conversation: mallory.client.sessionId });
    expect(again).toMatchObject({ ok: false, code: "NOT_FOUND" });
  });
});

describe("outbound", () => {
  it("an OutboundAction reaches the client exactly once, even when redelivered under another message id", async () => {
    const bob = await peer();
    const a = action({ action: "send", conversation: bob.client.sessionId, text: "hi bob", plugin: "echo" });
    await js.publish(outboundSubject(BOT, "send"), encodeOutboundAction(a), { msgID: a.id });
    await eventually(() => (app.store.getMessage("out", a.id)?.status === "sent" ? true : undefined), 20_000, "the action sent");
    // The same action again, under a new Nats-Msg-Id so that JetStream's window does not catch it:
    // only the broker's idempotency table stands between it and a second message.
    await js.publish(outboundSubject(BOT, "send"), encodeOutboundAction(a), { msgID: `${a.id}:again` });
    await eventually(async () => ((await metric("sb_broker_outbound_total", { action: "send", result: "duplicate" })) >= 1 ? true : undefined), 20_000, "the duplicate acked");
    await eventually(async () => {
      await bob.poll();
      return bob.received.some((e) => e.kind === "message" && e.text === "hi bob") ? true : undefined;
    }, 20_000, "bob's message");
    await new Promise((r) => setTimeout(r, 300));
    await bob.poll();
    expect(bob.received.filter((e) => e.kind === "message" && e.text === "hi bob")).toHaveLength(1);
    expect(app.store.getConversation(bob.client.sessionId)?.outboundCount).toBe(1);
  });

  it("an invalid action is dead-lettered, listed, and does not stop the next one", async () => {
    const carol = await peer();
    await js.publish(outboundSubject(BOT, "send"), new TextEncoder().encode("{not json"), { msgID: "garbage-1" });
    const bad = { v: 1, id: "bad-action-1", bot: BOT, action: "send", conversation: "05nothex", text: "x" };
    await js.publish(outboundSubject(BOT, "send"), new TextEncoder().encode(JSON.stringify(bad)), { msgID: "bad-action-1" });
    // A permanent failure: text over the configured limit is refused by the protocol codec already,
    // so use an unknown attachment id instead.
    const missing = action({ action: "send", conversation: carol.client.sessionId, text: "with a ghost", attachments: ["out:does-not-exist"] });
    await js.publish(outboundSubject(BOT, "send"), encodeOutboundAction(missing), { msgID: missing.id });
    const good = action({ action: "send", conversation: carol.client.sessionId, text: "still alive" });
    await js.publish(outboundSubject(BOT, "send"), encodeOutboundAction(good), { msgID: good.id });
    await eventually(() => (app.store.getMessage("out", good.id)?.status === "sent" ? true : undefined), 20_000, "the good action");
    const list = await eventually(async () => {
      const r = await request("dead-letters.list", { v: 1, limit: 50 });
      const items = r.json.items as { id: string; reason: { code: string }; source: { messageId?: string } }[];
      return items.length >= 3 ? items : undefined;
    }, 20_000, "three dead letters");
    const codes = list.map((d) => d.reason.code).sort();
    expect(codes).toEqual(expect.arrayContaining(["NOT_FOUND", "PROTOCOL_BAD_JSON", "PROTOCOL_INVALID"]));
    expect(app.store.getMessage("out", missing.id)).toMatchObject({ status: "failed", errorCode: "NOT_FOUND" });
    expect(await metric("sb_broker_dead_letters_total", { origin: "published" })).toBeGreaterThanOrEqual(3);

    // Retry the NOT_FOUND one: it fails again (still no such attachment) and is dead-lettered again,
    // which shows the retry really re-ran the action instead of being swallowed as a duplicate.
    const ghost = list.find((d) => d.reason.code === "NOT_FOUND")!;
    const retry = await request("dead-letters.retry", { v: 1, id: ghost.id });
    expect(retry.ok).toBe(true);
    expect(retry.json.id).toBe(`${missing.id}:retry:1`);
    await eventually(async () => {
      const r = await request("dead-letters.list", { v: 1, limit: 50 });
      return (r.json.items as unknown[]).length >= 4 ? true : undefined;
    }, 20_000, "the retried action dead-lettered again");
    expect((await request("dead-letters.retry", { v: 1, id: "no-such-letter" })).code).toBe("NOT_FOUND");
  });
});

describe("outbound kinds", () => {
  it("performs react, read, typing, accept and set_display_name", async () => {
    const lee = await peer();
    const hi = await lee.client.sendText(bot.sessionId, "react to me");
    await eventually(async () => ((await inboundEvents(tc, BOT)).some((e) => e.event.id === hi.hash) ? true : undefined), 20_000, "lee's message");
    const target = { timestamp: hi.timestamp, author: lee.client.sessionId };
    const actions = [
      action({ action: "react", conversation: lee.client.sessionId, op: "add", emoji: "👍", target }),
      action({ action: "read", conversation: lee.client.sessionId, timestamps: [hi.timestamp] }),
      action({ action: "typing", conversation: lee.client.sessionId, state: "started" }),
      action({ action: "accept", conversation: lee.client.sessionId }),
      action({ action: "set_display_name", displayName: "Kind Bot" }),
    ];
    for (const a of actions) await js.publish(outboundSubject(BOT, a.action), encodeOutboundAction(a), { msgID: a.id });
    await eventually(async () => {
      await lee.poll();
      const kinds = new Set(lee.received.map((e) => e.kind));
      return ["reaction", "readReceipt", "typing", "messageRequestResponse"].every((k) => kinds.has(k as never)) ? true : undefined;
    }, 30_000, "reaction, receipt, typing and request response");
    expect(lee.received.find((e) => e.kind === "reaction")).toMatchObject({ emoji: "👍", action: "add", target });
    expect(lee.received.find((e) => e.kind === "readReceipt")).toMatchObject({ timestamps: [hi.timestamp] });
    await eventually(async () => ((await request("info", { v: 1 })).json.displayName === "Kind Bot" ? true : undefined), 10_000, "the new display name");
    for (const a of actions.slice(0, 4)) await eventually(() => (app.store.getMessage("out", a.id)?.status === "sent" ? true : undefined), 10_000, `${a.action} recorded`);
    await request("profile", { v: 1, displayName: "It Bot" });
  });
});

describe("outbound order", () => {
  it("carries out the actions of one conversation one at a time, in stream order", async () => {
    const kim = await peer();
    // The first request each of kim's snodes gets is slow: concurrent sends would land out of order.
    for (const s of net.swarmFor(kim.client.sessionId).snodes) net.faults.inject(s.pubkeyEd25519, { kind: "latency", ms: 600, count: 1 });
    const texts = Array.from({ length: 6 }, (_, i) => `ordered ${i}`);
    try {
      for (const text of texts) {
        const a = action({ action: "send", conversation: kim.client.sessionId, text });
        await js.publish(outboundSubject(BOT, "send"), encodeOutboundAction(a), { msgID: a.id });
      }
      const got = await eventually(async () => {
        await kim.poll();
        const msgs = kim.received.filter((e): e is SessionMessageEvent => e.kind === "message" && e.text.startsWith("ordered "));
        return msgs.length === texts.length ? msgs : undefined;
      }, 30_000, "six ordered messages");
      // The order in which the swarm stored them (the order kim retrieves them) is the stream order.
      expect(got.map((m) => m.text)).toEqual(texts);
    } finally {
      net.faults.clear();
    }
  });
});

describe("outbound failures", () => {
  it("a transient failure is retried with backoff and still sent exactly once", async () => {
    const hank = await peer();
    // Every member of hank's swarm answers 500 until the first delivery has failed and been naked
    // (then the fault is lifted well within the 200 ms backoff before the second delivery).
    for (const s of net.swarmFor(hank.client.sessionId).snodes) net.faults.inject(s.pubkeyEd25519, { kind: "500" });
    const a = action({ action: "send", conversation: hank.client.sessionId, text: "through the storm" });
    try {
      const retriesBefore = await metric("sb_broker_outbound_total", { action: "send", result: "retry" });
      await js.publish(outboundSubject(BOT, "send"), encodeOutboundAction(a), { msgID: a.id });
      const deadline = Date.now() + 20_000;
      while ((await metric("sb_broker_outbound_total", { action: "send", result: "retry" })) === retriesBefore) {
        if (Date.now() > deadline) throw new Error("the first delivery never failed");
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      net.faults.clear();
    }
    await eventually(() => (app.store.getMessage("out", a.id)?.status === "sent" ? true : undefined), 30_000, "the retried action sent");
    await eventually(async () => {
      await hank.poll();
      return hank.received.some((e) => e.kind === "message" && e.text === "through the storm") ? true : undefined;
    }, 20_000, "hank's message");
    await new Promise((r) => setTimeout(r, 300));
    await hank.poll();
    expect(hank.received.filter((e) => e.kind === "message" && e.text === "through the storm")).toHaveLength(1);
  }, 60_000);

  it("after max_deliver transient failures the action is dead-lettered (MAX_DELIVER); a retry then sends it once", async () => {
    const ivy = await peer();
    for (const s of net.swarmFor(ivy.client.sessionId).snodes) net.faults.inject(s.pubkeyEd25519, { kind: "500" });
    const a = action({ action: "send", conversation: ivy.client.sessionId, text: "eventually" });
    try {
      await js.publish(outboundSubject(BOT, "send"), encodeOutboundAction(a), { msgID: a.id });
      await eventually(() => (app.store.getMessage("out", a.id)?.status === "failed" ? true : undefined), 30_000, "the action failed for good");
    } finally {
      net.faults.clear();
    }
    expect(app.store.getMessage("out", a.id)?.errorCode).toBe("MAX_DELIVER");
    const page = await request("dead-letters.list", { v: 1, limit: 200 });
    const dl = (page.json.items as { id: string; reason: { code: string }; deliveries: number; source: { messageId?: string } }[]).find((d) => d.source.messageId === a.id)!;
    expect(dl).toMatchObject({ reason: { code: "MAX_DELIVER" }, deliveries: 3 });
    expect((await request("dead-letters.retry", { v: 1, id: dl.id })).ok).toBe(true);
    await eventually(() => (app.store.getMessage("out", a.id)?.status === "sent" ? true : undefined), 30_000, "the retried action sent");
    await eventually(async () => {
      await ivy.poll();
      return ivy.received.some((e) => e.kind === "message" && e.text === "eventually") ? true : undefined;
    }, 20_000, "ivy's message");
    await new Promise((r) => setTimeout(r, 300));
    await ivy.poll();
    expect(ivy.received.filter((e) => e.kind === "message" && e.text === "eventually")).toHaveLength(1);
  }, 60_000);

  it("an action to a blocked peer is dead-lettered (BLOCKED) and never sent", async () => {
    const jay = await peer();
    await request("block", { v: 1, conversation: jay.client.sessionId });
    const a = action({ action: "send", conversation: jay.client.sessionId, text: "you should not see this" });
    await js.publish(outboundSubject(BOT, "send"), encodeOutboundAction(a), { msgID: a.id });
    await eventually(() => (app.store.getMessage("out", a.id)?.status === "failed" ? true : undefined), 20_000, "the blocked action refused");
    expect(app.store.getMessage("out", a.id)?.errorCode).toBe("BLOCKED");
    await jay.poll();
    expect(jay.received.filter((e) => e.kind === "message")).toHaveLength(0);
    await request("unblock", { v: 1, conversation: jay.client.sessionId });
  });
});

describe("admin endpoints", () => {
  it("answer info, conversations, messages, profile and send, are discoverable with $SRV, and refuse bad requests", async () => {
    const info = await request("info", { v: 1 });
    expect(info.json).toMatchObject({ v: 1, bot: BOT, sessionId: bot.sessionId, displayName: "It Bot" });
    expect((info.json.counters as { published: number }).published).toBeGreaterThan(0);

    const page1 = await request("conversations", { v: 1, limit: 1 });
    expect(page1.ok).toBe(true);
    expect((page1.json.items as unknown[]).length).toBe(1);
    expect(typeof page1.json.nextCursor).toBe("string");
    const page2 = await request("conversations", { v: 1, limit: 1, cursor: page1.json.nextCursor });
    expect((page2.json.items as { conversation: string }[])[0]!.conversation).not.toBe((page1.json.items as { conversation: string }[])[0]!.conversation);

    const msgs = await request("messages", { v: 1, direction: "in", limit: 5 });
    expect((msgs.json.items as { direction: string }[]).every((m) => m.direction === "in")).toBe(true);

    const dave = await peer();
    const sendReq = action({ action: "send", conversation: dave.client.sessionId, text: "from the operator" });
    const sent = await request("send", sendReq);
    expect(sent.json).toEqual({ v: 1, ok: true, id: sendReq.id });
    await eventually(async () => {
      await dave.poll();
      return dave.received.some((e) => e.kind === "message" && e.text === "from the operator") ? true : undefined;
    }, 20_000, "the operator's message");

    const profile = await request("profile", { v: 1, displayName: "Renamed Bot" });
    expect(profile.json.displayName).toBe("Renamed Bot");

    expect(await request("info", { nope: true })).toMatchObject({ ok: false, code: "PROTOCOL_INVALID" });
    expect(await request("conversations", { v: 1, cursor: "!!!" })).toMatchObject({ ok: false, code: "BAD_REQUEST" });
    const raw = await tc.request(brokerSubject(BOT, "info"), new TextEncoder().encode("{{{"), { timeout: 5000 });
    expect(raw.headers?.get("Nats-Service-Error-Code")).toBe("400");

    const svc = new Svcm(tc as unknown as ConstructorParameters<typeof Svcm>[0]).client();
    const found: { name: string; metadata?: Record<string, string> }[] = [];
    for await (const s of await svc.info("sb-broker")) found.push(s);
    expect(found.some((s) => s.metadata?.bot === BOT)).toBe(true);
    const stats: { endpoints?: { name: string; num_requests: number; data?: unknown }[] }[] = [];
    for await (const s of await svc.stats("sb-broker")) stats.push(s);
    const infoStats = stats.flatMap((s) => s.endpoints ?? []).find((e) => e.name === "info");
    expect(infoStats?.num_requests).toBeGreaterThan(0);
    expect(infoStats?.data).toMatchObject({ published: expect.any(Number), sent: expect.any(Number) });
  });
});

describe("attachments", () => {
  it("round-trip 9 MB through attachments.put/get, to and from a Session client", async () => {
    const erin = await peer();
    const bytes = randomBytes(9_000_000);
    const sha256 = createHash("sha256").update(bytes).digest("hex");

    // Plugin → broker → Session: put, then send it.
    const putReply = decodeAttachmentReply(
      await requestChunked(tc, brokerSubject(BOT, "attachments.put"), encodeAttachmentPutPayload({ v: 1, contentType: "application/octet-stream", fileName: "big.bin", size: bytes.byteLength, sha256 }, bytes), { timeoutMs: 60_000 }),
    );
    expect(putReply.attachment).toMatchObject({ size: 9_000_000, sha256, fileName: "big.bin" });
    expect(JSON.stringify(putReply)).not.toMatch(/key|url|digest/i);
    const a = action({ action: "send", conversation: erin.client.sessionId, text: "a file", attachments: [putReply.attachment.id] });
    await js.publish(outboundSubject(BOT, "send"), encodeOutboundAction(a), { msgID: a.id });
    const got = await eventually(async () => {
      await erin.poll();
      return erin.received.find((e): e is SessionMessageEvent => e.kind === "message" && e.text === "a file");
    }, 30_000, "the file message");
    const downloaded = await erin.client.downloadAttachment(got.attachments[0]!);
    expect(createHash("sha256").update(downloaded).digest("hex")).toBe(sha256);

    // Session → broker → plugin: the peer sends a file, the plugin fetches it by id.
    const upload = await erin.client.uploadAttachment(bytes, { contentType: "image/png", fileName: "back.png" });
    const sent = await erin.client.sendMessage(bot.sessionId, { text: "here you go", attachments: [upload] });
    const ev = await eventually(async () => (await inboundEvents(tc, BOT)).find((e) => e.event.id === sent.hash), 30_000, "the inbound file message");
    expect(ev.event.kind).toBe("message");
    const desc = ev.event.kind === "message" ? ev.event.attachments[0]! : undefined;
    expect(desc).toMatchObject({ contentType: "image/png", fileName: "back.png" });
    const back = decodeAttachmentGetPayload(await requestChunked(tc, brokerSubject(BOT, "attachments.get"), encodeAttachmentGetRequest({ v: 1, attachmentId: desc!.id }), { timeoutMs: 60_000 }));
    expect(back.header.attachment.sha256).toBe(sha256);
    expect(Buffer.from(back.bytes).equals(bytes)).toBe(true);
  }, 180_000);

  it("refuse an oversize attachment and an unknown id, counted, without stopping anything", async () => {
    // One byte over the broker's limit (still within the protocol's): refused by the broker.
    const over = new Uint8Array(9_000_001);
    await expect(
      requestChunked(tc, brokerSubject(BOT, "attachments.put"), encodeAttachmentPutPayload({ v: 1, contentType: "application/octet-stream", size: over.byteLength }, over), { timeoutMs: 30_000 }),
    ).rejects.toThrow(/TOO_LARGE/);
    // A transfer bigger than any allowed put: refused by the chunker before anything is buffered.
    await expect(requestChunked(tc, brokerSubject(BOT, "attachments.put"), new Uint8Array(9_200_000), { timeoutMs: 30_000 })).rejects.toThrow(/CHUNK_TOO_LARGE/);
    await eventually(async () => ((await metric("sb_broker_attachments_total", { op: "put", result: "too_large" })) === 2 ? true : undefined), 5_000, "two too-large puts counted");
    await expect(requestChunked(tc, brokerSubject(BOT, "attachments.get"), encodeAttachmentGetRequest({ v: 1, attachmentId: "in:nothing:0" }), { timeoutMs: 30_000 })).rejects.toThrow(/NOT_FOUND/);
    const small = new Uint8Array([1, 2, 3]);
    const ok = decodeAttachmentReply(await requestChunked(tc, brokerSubject(BOT, "attachments.put"), encodeAttachmentPutPayload({ v: 1, contentType: "text/plain", size: 3 }, small), { timeoutMs: 30_000 }));
    expect(ok.attachment.size).toBe(3);
    expect(await metric("sb_broker_attachments_total", { op: "get", result: "error" })).toBeGreaterThanOrEqual(1);
  }, 60_000);
});

describe("NATS restart", () => {
  it("is survived: inbound and outbound work again afterwards", async () => {
    const frank = await peer();
    await nats.restart();
    const sent = await frank.client.sendText(bot.sessionId, "after the restart");
    await eventually(async () => ((await inboundEvents(tc, BOT)).some((e) => e.event.id === sent.hash) ? true : undefined), 40_000, "inbound after restart");
    const a = action({ action: "send", conversation: frank.client.sessionId, text: "back online" });
    await eventually(async () => {
      await js.publish(outboundSubject(BOT, "send"), encodeOutboundAction(a), { msgID: a.id });
      return true;
    }, 20_000, "publish after restart");
    await eventually(async () => {
      await frank.poll();
      return frank.received.some((e) => e.kind === "message" && e.text === "back online") ? true : undefined;
    }, 40_000, "outbound after restart");
    const res = await app.http.inject({ method: "GET", url: "/readyz" });
    expect(res.statusCode).toBe(200);
  }, 120_000);
});

describe("http", () => {
  it("serves healthz, readyz and metrics", async () => {
    expect((await app.http.inject({ method: "GET", url: "/healthz" })).statusCode).toBe(200);
    const ready = await app.http.inject({ method: "GET", url: "/readyz" });
    expect(ready.json()).toMatchObject({ status: "ready", checks: { nats: true, database: true, polling: true, started: true } });
    const m = await app.http.inject({ method: "GET", url: "/metrics" });
    expect(m.body).toContain("sb_broker_inbound_total");
    expect(m.body).toContain("sb_broker_poll_seconds");
  });
});
