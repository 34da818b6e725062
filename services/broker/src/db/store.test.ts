import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type OpenDatabase } from "./database.js";
import { BrokerStore, decodeCursor } from "./store.js";

const A = "05" + "a".repeat(64);
const B = "05" + "b".repeat(64);
const DAY = 86_400_000;

describe("BrokerStore (temporary SQLite file)", () => {
  let dir: string;
  let open: OpenDatabase;
  let now: number;
  let store: BrokerStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "sb-broker-db-"));
    open = openDatabase(join(dir, "nested", "broker.sqlite"));
    now = 1_700_000_000_000;
    store = new BrokerStore(open.db, () => now);
  });
  afterEach(() => {
    open.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("opens in WAL mode and re-opening an existing file re-runs no migration", () => {
    expect(open.sqlite.pragma("journal_mode", { simple: true })).toBe("wal");
    store.block(A, "spam");
    open.close();
    open = openDatabase(join(dir, "nested", "broker.sqlite"));
    expect(new BrokerStore(open.db).isBlocked(A)).toBe(true);
  });

  it("fails with BROKER_DATABASE when the file cannot be created", () => {
    const file = join(dir, "a-file");
    writeFileSync(file, "not a directory");
    expect(() => openDatabase(join(file, "sub", "broker.sqlite"))).toThrow(expect.objectContaining({ code: "BROKER_DATABASE" }));
    writeFileSync(join(dir, "garbage.sqlite"), "this is not a database ".repeat(100));
    expect(() => openDatabase(join(dir, "garbage.sqlite"))).toThrow(expect.objectContaining({ code: "BROKER_DATABASE" }));
  });

  it("records conversations and pages them newest first", () => {
    store.touchConversation(A, 100, "in");
    store.touchConversation(B, 200, "in", { displayName: "Bee", approved: true, approvedMe: true });
    store.touchConversation(A, 50, "out");
    const first = store.listConversations(1);
    expect(first.items.map((c) => c.sessionId)).toEqual([B]);
    expect(first.items[0]!.displayName).toBe("Bee");
    const second = store.listConversations(1, first.nextCursor);
    expect(second.items[0]).toMatchObject({ sessionId: A, lastMessageAt: 100, inboundCount: 1, outboundCount: 1, approved: false, approvedMe: false });
    store.touchConversation(A, 60, "in", { countsAsMessage: false });
    expect(store.getConversation(A)).toMatchObject({ inboundCount: 1, lastMessageAt: 100 });
    expect(store.isApproved(A)).toBe(false);
    expect(store.isApproved("05" + "9".repeat(64))).toBe(false);
    store.setApproval(A, { approved: true });
    expect(store.getConversation(A)).toMatchObject({ approved: true, approvedMe: false });
    expect(store.isApproved(A)).toBe(true);
    store.setApproval(B, { approvedMe: false });
    expect(store.getConversation(B)).toMatchObject({ approved: true, approvedMe: false, displayName: "Bee" });
    expect(second.nextCursor).toBeUndefined();
    expect(store.conversationCount()).toBe(2);
  });

  it("a touch changes only what it names: display name and approvals are kept when absent, replaced when given", () => {
    store.touchConversation(A, 100, "in", { displayName: "Ay", approvedMe: true });
    expect(store.getConversation(A)).toMatchObject({ displayName: "Ay", approved: false, approvedMe: true, inboundCount: 1, outboundCount: 0, firstSeenAt: now, lastMessageAt: 100 });
    store.touchConversation(A, 300, "out", { approved: true });
    expect(store.getConversation(A)).toMatchObject({ displayName: "Ay", approved: true, approvedMe: true, inboundCount: 1, outboundCount: 1, lastMessageAt: 300 });
    store.touchConversation(A, 200, "in", { displayName: "Ay again", approvedMe: false });
    expect(store.getConversation(A)).toMatchObject({ displayName: "Ay again", approved: true, approvedMe: false, inboundCount: 2, outboundCount: 1, lastMessageAt: 300 });
    store.touchConversation(A, 400, "out", { countsAsMessage: false });
    expect(store.getConversation(A)).toMatchObject({ displayName: "Ay again", inboundCount: 2, outboundCount: 1, lastMessageAt: 400 });
  });

  it("records each message once per direction and ref, and pages them", () => {
    const id1 = store.recordMessage({ conversationId: A, direction: "in", ref: "h1", kind: "message", body: "hi", status: "received", sentAt: 1 });
    expect(store.recordMessage({ conversationId: A, direction: "in", ref: "h1", kind: "message", body: "hi", status: "received", sentAt: 1 })).toBe(id1);
    store.recordMessage({ conversationId: B, direction: "out", ref: "h1", kind: "send", body: "yo", status: "queued", sentAt: 2, plugin: "echo", causationId: "h0" });
    store.recordMessage({ conversationId: A, direction: "in", ref: "h2", kind: "message", body: "again", status: "received", sentAt: 3 });
    store.setMessageStatus("in", "h1", "published");
    expect(store.getMessage("in", "h1")!.status).toBe("published");
    store.setMessageStatus("out", "h1", "failed", { code: "SEND_FAILED", message: "swarm said no" });
    expect(store.getMessage("out", "h1")).toMatchObject({ status: "failed", errorCode: "SEND_FAILED", plugin: "echo", causationId: "h0" });
    const p1 = store.listMessages({ conversation: A }, 1);
    expect(p1.items.map((m) => m.ref)).toEqual(["h2"]);
    const p2 = store.listMessages({ conversation: A }, 1, p1.nextCursor);
    expect(p2.items.map((m) => [m.direction, m.ref])).toEqual([["in", "h1"]]);
    expect(p2.nextCursor).toBeUndefined();
    expect(store.listMessages({}, 10).items.map((m) => m.ref)).toEqual(["h2", "h1", "h1"]);
    expect(store.listMessages({ direction: "out" }, 10).items.map((m) => m.conversationId)).toEqual([B]);
    expect(store.messageCounts()).toEqual({ in_published: 1, in_received: 1, out_failed: 1 });
  });

  it("rejects malformed cursors", () => {
    expect(() => decodeCursor("!!notbase64-digits")).toThrow(RangeError);
    expect(() => store.listMessages({}, 10, Buffer.from("x").toString("base64url"))).toThrow(RangeError);
  });

  it("keeps dedup outcomes", () => {
    expect(store.dedupOutcome("h")).toBeUndefined();
    store.markDedup("h", "published");
    expect(store.dedupOutcome("h")).toBe("published");
    store.markDedup("h", "dropped");
    expect(store.dedupOutcome("h")).toBe("dropped");
  });

  it("claims an outbound action once: new, then retry, then done", () => {
    expect(store.claimOutbound("act-1")).toEqual({ state: "new", attempts: 1 });
    expect(store.claimOutbound("act-1")).toEqual({ state: "retry", attempts: 2 });
    store.finishOutbound("act-1", { status: "sent", resultRef: "storehash" });
    expect(store.claimOutbound("act-1")).toEqual({ state: "sent", resultRef: "storehash" });
    store.claimOutbound("act-2");
    store.finishOutbound("act-2", { status: "failed", error: "BLOCKED" });
    expect(store.claimOutbound("act-2")).toEqual({ state: "failed", error: "BLOCKED" });
    store.releaseOutbound("act-2");
    expect(store.claimOutbound("act-2").state).toBe("new");
    store.releaseOutbound("act-1"); // a sent action is never released
    expect(store.claimOutbound("act-1").state).toBe("sent");
  });

  it("blocks and unblocks", () => {
    store.block(A, null);
    store.block(A, "again");
    expect(store.isBlocked(A)).toBe(true);
    expect(store.listBlocked()).toEqual([A]);
    expect(store.unblock(A)).toBe(true);
    expect(store.unblock(A)).toBe(false);
    expect(store.isBlocked(A)).toBe(false);
  });

  it("stores dead letters once and counts retries", () => {
    const dl = { id: "d1", subject: "sb.out.bot.send", payload: Buffer.from("{}"), originalId: "a1", reason: "X", source: "broker", document: "{}", createdAt: now };
    expect(store.insertDeadLetter(dl)).toBe(true);
    expect(store.insertDeadLetter(dl)).toBe(false);
    now += 1;
    store.insertDeadLetter({ ...dl, id: "d2", createdAt: now });
    expect(store.listDeadLetters(1).items.map((d) => d.id)).toEqual(["d2"]);
    expect(store.listDeadLetters(1, store.listDeadLetters(1).nextCursor).items.map((d) => d.id)).toEqual(["d1"]);
    expect(store.markDeadLetterRetried("d1")).toBe(1);
    expect(store.markDeadLetterRetried("d1")).toBe(2);
    expect(store.getDeadLetter("d1")!.payload.toString()).toBe("{}");
    expect(store.markDeadLetterRetried("nope")).toBe(0);
    expect(store.deadLetterCount()).toBe(2);
  });

  it("keeps Session client key/values by namespace", () => {
    store.kvSet("ns", "k", "v1");
    store.kvSet("ns", "k", "v2");
    store.kvSet("other", "k", "x");
    expect(store.kvGet("ns", "k")).toBe("v2");
    store.kvDelete("ns", "k");
    expect(store.kvGet("ns", "k")).toBeUndefined();
    expect(store.kvGet("other", "k")).toBe("x");
  });
});

describe("retention", () => {
  it("deletes only what is older than the policy and keeps unfinished sends", () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-broker-ret-"));
    const open = openDatabase(join(dir, "b.sqlite"));
    let now = 100 * DAY;
    const store = new BrokerStore(open.db, () => now);
    try {
      // Old data at day 100.
      store.touchConversation(A, now, "in");
      store.touchConversation(B, now, "in");
      store.block(B, null);
      store.recordMessage({ conversationId: A, direction: "in", ref: "old", kind: "message", body: "x", status: "published", sentAt: now });
      store.markDedup("old", "published");
      store.claimOutbound("old-sent");
      store.finishOutbound("old-sent", { status: "sent", resultRef: null });
      store.claimOutbound("old-sending");
      store.insertDeadLetter({ id: "old", subject: "s", payload: Buffer.from(""), originalId: "o", reason: "r", source: "broker", document: "{}", createdAt: now });
      store.putAttachment({ id: "att-old", direction: "in", pointer: "{}", size: 1, contentType: null, fileName: null });

      // 20 days later: messages (10 d) and dead letters (10 d) expire, dedup (15 d) too.
      now += 20 * DAY;
      store.recordMessage({ conversationId: A, direction: "in", ref: "new", kind: "message", body: "y", status: "published", sentAt: now });
      store.markDedup("new", "published");
      const res = store.prune({ messagesDays: 10, dedupDays: 15, deadLettersDays: 10 });
      expect(res).toEqual({ messages: 1, dedup: 1, outboundKeys: 1, deadLetters: 1, attachments: 1, conversations: 0 });
      expect(store.getMessage("in", "old")).toBeUndefined();
      expect(store.getMessage("in", "new")).toBeDefined();
      expect(store.dedupOutcome("old")).toBeUndefined();
      expect(store.dedupOutcome("new")).toBe("published");
      expect(store.claimOutbound("old-sending").state).toBe("retry");
      expect(store.getAttachment("att-old")).toBeUndefined();
      // A still has a message; B has none but is blocked: both kept.
      expect(store.getConversation(A)).toBeDefined();
      expect(store.getConversation(B)).toBeDefined();
      store.unblock(B);
      expect(store.prune({ messagesDays: 10, dedupDays: 15, deadLettersDays: 10 }).conversations).toBe(1);
      expect(store.getConversation(B)).toBeUndefined();
    } finally {
      open.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
