import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { Identity } from "../identity/identity.js";
import { encryptForRecipient } from "../crypto/message-crypto.js";
import { encodeContent, wrapEnvelope } from "../proto/wire.js";
import { ContentSchema, type Content } from "../gen/signalservice_pb.js";
import { classifyStoredMessage, type Classified } from "./inbound.js";
import {
  buildMessageRequestResponse,
  buildReaction,
  buildReadReceipt,
  buildTyping,
  buildUnsend,
  buildVisibleMessage,
  MAX_TEXT_LENGTH,
} from "./outgoing.js";
import { isSessionError } from "../errors.js";

const alice = await Identity.generate();
const bob = await Identity.generate();
const T = 1_760_000_000_123;
const profile = { displayName: "Alice", lastUpdateSeconds: 1_760_000_000 };

function deliver(content: Content, t = T, from = alice, to = bob): Classified {
  const stored = wrapEnvelope(encryptForRecipient(from, to.sessionId, encodeContent(content)), t);
  return classifyStoredMessage(to, { hash: "h".repeat(43), expiration: t + 1000 }, stored);
}

function event(c: Classified) {
  if (c.status !== "event") throw new Error(`expected an event, got ${JSON.stringify(c)}`);
  return c.event;
}

describe("outgoing -> inbound round trips", () => {
  it("text with quote and profile", () => {
    const e = event(deliver(buildVisibleMessage(T, { text: "hello 👋", quote: { timestamp: 42, author: bob.sessionId }, profile })));
    expect(e).toMatchObject({
      kind: "message",
      sender: alice.sessionId,
      timestamp: T,
      text: "hello 👋",
      quote: { timestamp: 42, author: bob.sessionId },
      profile: { displayName: "Alice", lastUpdateSeconds: 1_760_000_000 },
      attachments: [],
      expirationMode: "off",
    });
    expect(JSON.parse(JSON.stringify(e))).toEqual(e);
  });
  it("attachments are described with their key, digest and scheme", () => {
    const key = new Uint8Array(64).fill(3);
    const e = event(
      deliver(
        buildVisibleMessage(T, {
          attachments: [{ deprecatedId: 12n, url: "http://127.0.0.1:1/file/12", key, digest: new Uint8Array(32), size: 5, contentType: "image/png", fileName: "a.png", width: 2, height: 3 }],
        }),
      ),
    );
    expect(e.kind).toBe("message");
    if (e.kind !== "message") return;
    expect(e.attachments[0]).toMatchObject({ id: "12", size: 5, contentType: "image/png", fileName: "a.png", width: 2, height: 3, deterministic: false, voiceMessage: false });
    expect(Buffer.from(e.attachments[0]!.keyBase64, "base64")).toEqual(Buffer.from(key));
  });
  it("reaction add and remove", () => {
    const target = { timestamp: 7, author: bob.sessionId };
    expect(event(deliver(buildReaction(T, target, "👍", "add", profile)))).toMatchObject({ kind: "reaction", target, emoji: "👍", action: "add" });
    expect(event(deliver(buildReaction(T, target, "👍", "remove")))).toMatchObject({ kind: "reaction", action: "remove" });
  });
  it("read receipt, typing on/off, request response, unsend", () => {
    expect(event(deliver(buildReadReceipt(T, [1, 2, 3])))).toMatchObject({ kind: "readReceipt", timestamps: [1, 2, 3] });
    expect(event(deliver(buildTyping(T, true)))).toMatchObject({ kind: "typing", typing: true });
    expect(event(deliver(buildTyping(T, false)))).toMatchObject({ kind: "typing", typing: false });
    expect(event(deliver(buildMessageRequestResponse(T, profile)))).toMatchObject({ kind: "messageRequestResponse", approved: true, profile: { displayName: "Alice" } });
    expect(event(deliver(buildUnsend(T, { timestamp: 9, author: alice.sessionId })))).toMatchObject({ kind: "unsend", target: { timestamp: 9, author: alice.sessionId } });
  });
  it("sets sigTimestamp = T and never DataMessage.timestamp", () => {
    const c = buildVisibleMessage(T, { text: "x" });
    expect(c.sigTimestamp).toBe(BigInt(T));
    const bytes = encodeContent(c);
    // field 7 of DataMessage would be tag 0x38; the DataMessage here is only body (0x0a)
    expect(Buffer.from(bytes).includes(Buffer.from([0x38]))).toBe(false);
  });
});

describe("inbound rules", () => {
  it("drops a sigTimestamp that differs from the envelope timestamp", () => {
    const c = deliver(buildVisibleMessage(T + 1, { text: "x" }), T);
    expect(c.status).toBe("error");
    if (c.status === "error") expect(c.error.code).toBe("SESSION_BAD_SIGNATURE");
  });
  it("accepts a legacy message without sigTimestamp", () => {
    expect(event(deliver(create(ContentSchema, { dataMessage: { body: "old client" } }))).kind).toBe("message");
  });
  it("ignores own sync copies and messages from ourselves", () => {
    const sync = create(ContentSchema, { dataMessage: { body: "x", syncTarget: bob.sessionId }, sigTimestamp: BigInt(T) });
    expect(deliver(sync, T, alice, alice)).toMatchObject({ status: "ignored", reason: "own sync copy" });
    expect(deliver(buildVisibleMessage(T, { text: "x" }), T, alice, alice)).toMatchObject({ status: "ignored" });
  });
  it("reports unknown content as an error, and typing with a wrong timestamp as malformed", () => {
    const unknown = deliver(create(ContentSchema, { sigTimestamp: BigInt(T) }));
    expect(unknown.status === "error" && unknown.error.code).toBe("SESSION_UNSUPPORTED");
    const typing = deliver(buildTyping(T - 5, true), T - 5);
    expect(typing.status).toBe("event");
    const badTyping = deliver(create(ContentSchema, { typingMessage: { timestamp: 1n, action: 0 } }), T);
    expect(badTyping.status === "error" && badTyping.error.code).toBe("SESSION_MALFORMED");
  });
  it("reports garbage, foreign and non-base64 data as typed errors", () => {
    const foreign = wrapEnvelope(encryptForRecipient(alice, alice.sessionId, encodeContent(buildTyping(T, true))), T);
    const cases: [Uint8Array | null, string][] = [
      [null, "SESSION_MALFORMED"],
      [Uint8Array.of(1, 2, 3), "SESSION_MALFORMED"],
      [foreign, "SESSION_DECRYPT_FAILED"],
    ];
    for (const [data, code] of cases) {
      const c = classifyStoredMessage(bob, { hash: "x", expiration: 0 }, data);
      expect(c.status === "error" && isSessionError(c.error) && c.error.code).toBe(code);
    }
  });
});

describe("outgoing validation", () => {
  it("limits text to 2000 code points", () => {
    expect(() => buildVisibleMessage(T, { text: "é".repeat(MAX_TEXT_LENGTH) })).not.toThrow();
    expect(() => buildVisibleMessage(T, { text: "😀".repeat(MAX_TEXT_LENGTH) })).not.toThrow();
    expect(() => buildVisibleMessage(T, { text: "a".repeat(MAX_TEXT_LENGTH + 1) })).toThrow(expect.objectContaining({ code: "SESSION_TEXT_TOO_LONG" }));
  });
  it("refuses empty messages and bad references", () => {
    expect(() => buildVisibleMessage(T, { text: "  " })).toThrow(expect.objectContaining({ code: "SESSION_INVALID_ARGUMENT" }));
    expect(() => buildReaction(T, { timestamp: 1, author: "nope" }, "👍", "add")).toThrow(expect.objectContaining({ code: "SESSION_INVALID_ARGUMENT" }));
    expect(() => buildUnsend(T, { timestamp: -1, author: alice.sessionId })).toThrow(expect.objectContaining({ code: "SESSION_INVALID_ARGUMENT" }));
    expect(() => buildReadReceipt(T, [])).toThrow(expect.objectContaining({ code: "SESSION_INVALID_ARGUMENT" }));
  });
});

describe("inbound robustness (fuzz)", () => {
  it("never throws on random bytes or on mutated valid messages", async () => {
    const fc = (await import("fast-check")).default;
    const valid = wrapEnvelope(encryptForRecipient(alice, bob.sessionId, encodeContent(buildVisibleMessage(T, { text: "fuzz me" }))), T);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const c = classifyStoredMessage(bob, { hash: "x", expiration: 0 }, bytes);
        expect(c.status).toBe("error");
      }),
      { numRuns: 200 },
    );
    fc.assert(
      fc.property(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 1, max: 255 }), (pos, xor) => {
        const mutated = valid.slice();
        mutated[pos] = (mutated[pos] ?? 0) ^ xor;
        const c = classifyStoredMessage(bob, { hash: "x", expiration: 0 }, mutated);
        expect(["event", "error"]).toContain(c.status);
        if (c.status === "error") expect(c.error.name).toBe("SessionError");
      }),
      { numRuns: 200 },
    );
  });
});
