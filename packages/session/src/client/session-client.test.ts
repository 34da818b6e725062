import { describe, expect, it } from "vitest";
import { SessionClient, type PollBatch } from "./session-client.js";
import { MemoryNetwork } from "../network/memory-network.js";
import { MemoryStorage } from "../storage/storage.js";
import { Identity } from "../identity/identity.js";
import type { SessionEvent } from "../messages/events.js";

const MNEMONIC = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";

async function pair(network = new MemoryNetwork()) {
  const alice = await SessionClient.create({ identity: await Identity.generate(), network, displayName: "Alice" });
  const bob = await SessionClient.create({ identity: await Identity.generate(), network, displayName: "Bob" });
  return { network, alice, bob };
}

function events(batch: PollBatch): SessionEvent[] {
  return batch.items.flatMap((i) => (i.status === "event" ? [i.event] : []));
}

describe("SessionClient over a MemoryNetwork", () => {
  it("is created from a mnemonic with the reference Session ID", async () => {
    const c = await SessionClient.create({ mnemonic: MNEMONIC, network: new MemoryNetwork() });
    expect(c.sessionId).toBe("054830367d369d94605247999a375dbd0a0f65fdec5de1535612bcb6d4de452c69");
    await expect(SessionClient.create({ mnemonic: "bad", network: new MemoryNetwork() })).rejects.toMatchObject({ code: "SESSION_INVALID_MNEMONIC" });
    await expect(SessionClient.create({ network: new MemoryNetwork() })).rejects.toMatchObject({ code: "SESSION_INVALID_ARGUMENT" });
  });

  it("delivers every message kind with hash and timestamp", async () => {
    const { alice, bob } = await pair();
    const hello = await alice.sendText(bob.sessionId, "hello bob");
    expect(hello.hash).toHaveLength(43);
    const reply = await alice.sendText(bob.sessionId, "reply", { quote: { timestamp: 5, author: bob.sessionId } });
    await alice.react(bob.sessionId, { timestamp: 5, author: bob.sessionId }, "👍");
    await alice.removeReaction(bob.sessionId, { timestamp: 5, author: bob.sessionId }, "👍");
    await alice.sendReadReceipt(bob.sessionId, [5, 6]);
    await alice.sendTyping(bob.sessionId, true);
    await alice.sendTyping(bob.sessionId, false);
    await alice.acceptMessageRequest(bob.sessionId);
    await alice.unsend(bob.sessionId, { timestamp: hello.timestamp });
    expect(reply.timestamp).toBeGreaterThan(hello.timestamp);

    const batch = await bob.pollOnce();
    const got = events(batch);
    expect(got.map((e) => e.kind)).toEqual(["message", "message", "reaction", "reaction", "readReceipt", "typing", "typing", "messageRequestResponse", "unsend"]);
    expect(got[0]).toMatchObject({ text: "hello bob", sender: alice.sessionId, timestamp: hello.timestamp, hash: hello.hash, profile: { displayName: "Alice" } });
    expect(got[1]).toMatchObject({ quote: { timestamp: 5, author: bob.sessionId } });
    expect(got[8]).toMatchObject({ kind: "unsend", target: { timestamp: hello.timestamp, author: alice.sessionId } });
  });

  it("does not move the cursor until commit, then never redelivers", async () => {
    const { alice, bob } = await pair();
    await alice.sendText(bob.sessionId, "one");
    const first = await bob.pollOnce();
    expect(first.items).toHaveLength(1);
    const again = await bob.pollOnce();
    expect(again.items.map((i) => i.hash)).toEqual(first.items.map((i) => i.hash));
    await bob.commit(again);
    expect((await bob.pollOnce()).items).toHaveLength(0);
    await alice.sendText(bob.sessionId, "two");
    const next = await bob.pollOnce();
    expect(events(next).map((e) => (e.kind === "message" ? e.text : ""))).toEqual(["two"]);
  });

  it("deduplicates by hash when the cursor is lost (e.g. another snode)", async () => {
    const storage = new MemoryStorage();
    const network = new MemoryNetwork();
    const alice = await SessionClient.create({ identity: await Identity.generate(), network });
    const bobId = await Identity.generate();
    const bob = await SessionClient.create({ identity: bobId, network, storage });
    await alice.sendText(bob.sessionId, "once");
    await bob.commit(await bob.pollOnce());
    // same storage, cursor pointing nowhere: the snode returns everything again
    await storage.set(`session:${bob.sessionId}:poll:0:cursor`, JSON.stringify({ lastHashes: {} }));
    const bob2 = await SessionClient.create({ identity: bobId, network, storage });
    const batch = await bob2.pollOnce();
    expect(batch.items).toHaveLength(0);
    expect(batch.duplicates).toBe(1);
  });

  it("survives garbage in the inbox: counted, reported, polling goes on", async () => {
    const { network, alice, bob } = await pair();
    await network.inject(bob.sessionId, Uint8Array.of(1, 2, 3));
    await alice.sendText(bob.sessionId, "after garbage");
    const errors: string[] = [];
    const texts: string[] = [];
    bob.on("error", (e) => void errors.push(e.error.code));
    bob.on("message", (m) => {
      texts.push(m.text);
      throw new Error("listener bug must not stop anything");
    });
    await bob.pollAndDispatch();
    expect(errors).toEqual(["SESSION_MALFORMED"]);
    expect(texts).toEqual(["after garbage"]);
    expect(bob.stats).toMatchObject({ errors: 1, events: 1 });
  });

  it("drops expired messages", async () => {
    let now = 1_800_000_000_000;
    const network = new MemoryNetwork({ now: () => now });
    const { alice, bob } = await pair(network);
    await alice.sendTyping(bob.sessionId, true); // 20 s TTL
    now += 21_000;
    expect((await bob.pollOnce()).items).toHaveLength(0);
  });

  it("follows `more` across pages", async () => {
    const { alice, bob } = await pair(new MemoryNetwork({ pageSize: 2 }));
    for (let i = 0; i < 5; i++) await alice.sendText(bob.sessionId, `m${i}`);
    const batch = await bob.pollOnce();
    expect(events(batch).map((e) => (e.kind === "message" ? e.text : ""))).toEqual(["m0", "m1", "m2", "m3", "m4"]);
  });

  it("polls in the background and stops cleanly", async () => {
    const { alice, bob } = await pair();
    const received = new Promise<string>((resolve) => bob.on("message", (m) => resolve(m.text)));
    bob.startPolling();
    expect(bob.polling).toBe(true);
    await alice.sendText(bob.sessionId, "background");
    expect(await received).toBe("background");
    await bob.stopPolling();
    expect(bob.polling).toBe(false);
    await bob.close();
    await expect(bob.sendText(alice.sessionId, "x")).rejects.toMatchObject({ code: "SESSION_CLOSED" });
  }, 20_000);

  it("uploads and downloads attachments", async () => {
    const { alice, bob } = await pair();
    const file = new Uint8Array(10_000).map((_, i) => i % 251);
    const info = await alice.uploadAttachment(file, { contentType: "application/octet-stream", fileName: "f.bin" });
    await alice.sendMessage(bob.sessionId, { text: "file", attachments: [info] });
    const [msg] = events(await bob.pollOnce());
    if (msg?.kind !== "message") throw new Error("no message");
    expect(msg.attachments[0]).toMatchObject({ fileName: "f.bin", size: 10_000 });
    expect(await bob.downloadAttachment(msg.attachments[0]!)).toEqual(file);
    await expect(bob.downloadAttachment({ ...msg.attachments[0]!, size: 20_000_000 })).rejects.toMatchObject({ code: "SESSION_ATTACHMENT_TOO_LARGE" });
    const wrongDigest = { ...msg.attachments[0]!, digestBase64: Buffer.alloc(32).toString("base64") };
    await expect(bob.downloadAttachment(wrongDigest)).rejects.toMatchObject({ code: "SESSION_ATTACHMENT_DIGEST_MISMATCH" });
  });

  it("keeps lastUpdateSeconds strictly increasing across display name changes", async () => {
    const storage = new MemoryStorage();
    const network = new MemoryNetwork();
    const id = await Identity.generate();
    const c = await SessionClient.create({ identity: id, network, storage, displayName: "One" });
    const first = c.profile!.lastUpdateSeconds;
    await c.setDisplayName("Two");
    expect(c.profile!.lastUpdateSeconds).toBeGreaterThan(first);
    const second = c.profile!.lastUpdateSeconds;
    await c.setDisplayName("Two");
    expect(c.profile!.lastUpdateSeconds).toBe(second);
    const reopened = await SessionClient.create({ identity: id, network, storage, displayName: "Two" });
    expect(reopened.profile).toEqual({ displayName: "Two", lastUpdateSeconds: second });
    await expect(c.setDisplayName("")).rejects.toMatchObject({ code: "SESSION_INVALID_ARGUMENT" });
  });

  it("rejects bad recipients and over-long text before touching the network", async () => {
    const { alice } = await pair();
    await expect(alice.sendText("05abc", "x")).rejects.toMatchObject({ code: "SESSION_INVALID_SESSION_ID" });
    await expect(alice.sendText(alice.sessionId, "a".repeat(2001))).rejects.toMatchObject({ code: "SESSION_TEXT_TOO_LONG" });
  });
});
