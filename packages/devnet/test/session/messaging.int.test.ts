// Two identities exchange every message kind and attachments over a plain-HTTP devnet.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomBytes } from "node:crypto";
import { loadSodium, type AttachmentInfo, type SessionClient, type StorageRpcNetwork } from "@session-bot/session";
import { startDevnet, type Devnet } from "../../src/index.js";
import { makeClient, pollEvents } from "./helpers.js";

let net: Devnet;
let alice: SessionClient;
let bob: SessionClient;
let aliceNet: StorageRpcNetwork;
let bobNet: StorageRpcNetwork;

beforeAll(async () => {
  net = await startDevnet({ http: true, fileServer: { maxBytes: 2_000_000, ttlSeconds: 3600 } });
  ({ client: alice, network: aliceNet } = await makeClient(net, { displayName: "Alice" }));
  ({ client: bob, network: bobNet } = await makeClient(net, { displayName: "Bob" }));
});
afterAll(async () => {
  await aliceNet?.close();
  await bobNet?.close();
  await net?.stop();
});

describe("1:1 messaging over the devnet", () => {
  it("stores on the recipient's swarm under the server's hash", async () => {
    const sent = await alice.sendText(bob.sessionId, "hello bob");
    const swarm = net.swarmFor(bob.sessionId).snodes.map((s) => s.pubkeyEd25519).sort();
    expect((await aliceNet.getSwarm(bob.sessionId)).map((s) => s.pubkeyEd25519).sort()).toEqual(swarm);
    const { events } = await pollEvents(bob, 1);
    expect(events[0]).toMatchObject({ kind: "message", text: "hello bob", sender: alice.sessionId, hash: sent.hash, timestamp: sent.timestamp, profile: { displayName: "Alice" } });
  });

  it("exchanges every message kind both ways", async () => {
    const m1 = await alice.sendText(bob.sessionId, "question?");
    const { events: first } = await pollEvents(bob, 1);
    expect(first[0]).toMatchObject({ kind: "message", text: "question?" });

    // Bob answers: accept, typing, reply with quote, reaction, read receipt.
    await bob.acceptMessageRequest(alice.sessionId);
    await bob.sendTyping(alice.sessionId, true);
    const reply = await bob.sendText(alice.sessionId, "answer!", { quote: { timestamp: m1.timestamp, author: alice.sessionId } });
    await bob.sendTyping(alice.sessionId, false);
    await bob.react(alice.sessionId, { timestamp: m1.timestamp, author: alice.sessionId }, "❤️");
    await bob.removeReaction(alice.sessionId, { timestamp: m1.timestamp, author: alice.sessionId }, "❤️");
    await bob.sendReadReceipt(alice.sessionId, [m1.timestamp]);
    await bob.unsend(alice.sessionId, { timestamp: reply.timestamp });

    const { events } = await pollEvents(alice, 8);
    expect(events.map((e) => e.kind)).toEqual(["messageRequestResponse", "typing", "message", "typing", "reaction", "reaction", "readReceipt", "unsend"]);
    expect(events[0]).toMatchObject({ approved: true, profile: { displayName: "Bob" }, sender: bob.sessionId });
    expect(events[1]).toMatchObject({ typing: true });
    expect(events[2]).toMatchObject({ text: "answer!", quote: { timestamp: m1.timestamp, author: alice.sessionId }, timestamp: reply.timestamp });
    expect(events[3]).toMatchObject({ typing: false });
    expect(events[4]).toMatchObject({ emoji: "❤️", action: "add", target: { timestamp: m1.timestamp, author: alice.sessionId } });
    expect(events[5]).toMatchObject({ action: "remove" });
    expect(events[6]).toMatchObject({ timestamps: [m1.timestamp] });
    expect(events[7]).toMatchObject({ target: { timestamp: reply.timestamp, author: bob.sessionId } });
  });

  it("carries display-name changes with an increasing lastProfileUpdateSeconds", async () => {
    await alice.sendText(bob.sessionId, "before");
    const before = alice.profile!.lastUpdateSeconds;
    await alice.setDisplayName("Alice 2");
    await alice.sendText(bob.sessionId, "after");
    const { events } = await pollEvents(bob, 2);
    const [a, b] = events;
    expect(a).toMatchObject({ profile: { displayName: "Alice", lastUpdateSeconds: before } });
    expect(b).toMatchObject({ profile: { displayName: "Alice 2" } });
    expect(b!.kind === "message" && b!.profile!.lastUpdateSeconds! > before).toBe(true);
  });

  it("sends and receives attachments through the devnet file server", async () => {
    const image = new Uint8Array(randomBytes(150_000));
    const doc = new Uint8Array(randomBytes(1_000));
    const a1 = await alice.uploadAttachment(image, { contentType: "image/jpeg", fileName: "photo.jpg", width: 640, height: 480 });
    const a2 = await alice.uploadAttachment(doc, { contentType: "application/pdf", fileName: "doc.pdf" });
    expect(a1.url.startsWith(`${net.fileServerUrl}/file/`)).toBe(true);
    await alice.sendMessage(bob.sessionId, { text: "two files", attachments: [a1, a2] });
    const { events } = await pollEvents(bob, 1);
    const msg = events[0]!;
    if (msg.kind !== "message") throw new Error("expected a message");
    expect(msg.attachments).toHaveLength(2);
    expect(msg.attachments[0]).toMatchObject({ contentType: "image/jpeg", fileName: "photo.jpg", width: 640, height: 480, size: 150_000, deterministic: false });
    expect(await bob.downloadAttachment(msg.attachments[0]!)).toEqual(image);
    expect(await bob.downloadAttachment(msg.attachments[1]!)).toEqual(doc);
  });

  it("downloads a deterministic-scheme attachment ('S' secretstream blob, #d URL, 32-byte key)", async () => {
    const sodium = await loadSodium();
    const file = new Uint8Array(randomBytes(80_000)); // three 32 KiB chunks
    const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
    const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
    const stream = Buffer.concat([Buffer.alloc(99), Buffer.of(1), file]); // 0x00 padding, 0x01 marker, file
    const parts: Uint8Array[] = [Uint8Array.of(0x53), header];
    for (let off = 0; off < stream.length; off += 32_768) {
      const last = off + 32_768 >= stream.length;
      const tag = last ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
      parts.push(sodium.crypto_secretstream_xchacha20poly1305_push(state, stream.subarray(off, off + 32_768), null, tag));
    }
    const uploaded = await aliceNet.uploadFile(Buffer.concat(parts));
    const pointer: AttachmentInfo = {
      url: `${uploaded.url}#d`,
      id: uploaded.id,
      size: file.length,
      keyBase64: Buffer.from(key).toString("base64"),
      voiceMessage: false,
      deterministic: true,
      contentType: "application/octet-stream",
    };
    await alice.sendMessage(bob.sessionId, { attachments: [pointer] });
    const { events } = await pollEvents(bob, 1);
    const msg = events[0]!;
    if (msg.kind !== "message") throw new Error("expected a message");
    expect(msg.attachments[0]).toMatchObject({ deterministic: true, size: 80_000 });
    expect(msg.attachments[0]!.digestBase64).toBeUndefined();
    expect(await bob.downloadAttachment(msg.attachments[0]!)).toEqual(file);
  });

  it("refuses attachments over the limits with clear errors", async () => {
    // devnet file server limit here is 2,000,000 bytes: the server's 413 becomes a typed error
    await expect(alice.uploadAttachment(new Uint8Array(2_500_000))).rejects.toMatchObject({ code: "SESSION_ATTACHMENT_TOO_LARGE" });
    await expect(alice.uploadAttachment(new Uint8Array(9_500_000))).rejects.toMatchObject({ code: "SESSION_ATTACHMENT_TOO_LARGE" });
    const a = await alice.uploadAttachment(new Uint8Array(100_000).fill(1));
    await expect(bob.downloadAttachment(a, { maxBytes: 50_000 })).rejects.toMatchObject({ code: "SESSION_ATTACHMENT_TOO_LARGE" });
    await expect(bob.downloadAttachment({ ...a, url: "http://127.0.0.1:1/file/1" })).rejects.toMatchObject({ code: "SESSION_ATTACHMENT_URL_NOT_ALLOWED" });
    await expect(bob.downloadAttachment({ ...a, url: `${net.fileServerUrl}/file/999` })).rejects.toMatchObject({ code: "SESSION_FILE_SERVER" });
  });

  it("delivers through background polling with events", async () => {
    const got = new Promise<string>((resolve) => {
      const off = bob.on("message", (m) => {
        off();
        resolve(m.text);
      });
    });
    const bobPolling = bob;
    // a short interval for the test: pollAndDispatch loop driven by startPolling's default is 3 s
    bobPolling.startPolling();
    await alice.sendText(bob.sessionId, "event driven");
    expect(await got).toBe("event driven");
    await bobPolling.stopPolling();
  }, 20_000);
});
