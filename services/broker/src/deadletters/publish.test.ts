import { deadLetterPayload, encodeDeadLetter, isDeadLetter, MAX_DEAD_LETTER_PAYLOAD_LENGTH } from "@session-bot/protocol";
import { describe, expect, it } from "vitest";
import { originalBody } from "./consumer.js";
import { buildDeadLetter } from "./publish.js";

const input = {
  bot: "bot",
  stream: "SB_OUTBOUND",
  subject: "sb.out.bot.send",
  sequence: 42,
  consumer: "sb_broker_out_bot",
  messageId: "abc",
  code: "SEND_FAILED",
  message: "refused",
  deliveries: 1,
  firstSeen: 1000,
};

describe("dead letters", () => {
  it("keep a JSON body as JSON and give it back byte-for-byte on retry", () => {
    const body = new TextEncoder().encode(JSON.stringify({ a: 1, b: "x" }));
    const dl = buildDeadLetter({ ...input, body }, 2000);
    expect(isDeadLetter(dl)).toBe(true);
    expect(dl).toMatchObject({ id: "SB_OUTBOUND:42", source: { messageId: "abc", sequence: 42 }, payload: { encoding: "json" }, failedAt: 2000 });
    expect(new TextDecoder().decode(originalBody(dl))).toBe(JSON.stringify({ a: 1, b: "x" }));
  });

  it("keep other bodies as base64, truncated and flagged when too long", () => {
    const garbage = new Uint8Array([0xff, 0xfe, 0x00, 0x01]);
    const dl = buildDeadLetter({ ...input, body: garbage, messageId: "bad id with spaces" }, 1);
    expect(isDeadLetter(dl)).toBe(true);
    expect(dl.source.messageId).toBeUndefined();
    expect(Buffer.from(originalBody(dl)!).equals(Buffer.from(garbage))).toBe(true);
    const huge = deadLetterPayload(new Uint8Array(MAX_DEAD_LETTER_PAYLOAD_LENGTH));
    expect(huge.encoding === "base64" && huge.truncated && huge.data.length).toBe(MAX_DEAD_LETTER_PAYLOAD_LENGTH);
    const truncated = buildDeadLetter({ ...input, body: new Uint8Array(MAX_DEAD_LETTER_PAYLOAD_LENGTH) }, 1);
    expect(originalBody(truncated)).toBeUndefined();
  });

  it("keep a body nested too deep for the protocol as base64, so the dead letter still encodes", () => {
    const deep = `${"[".repeat(100)}${"]".repeat(100)}`;
    const dl = buildDeadLetter({ ...input, body: new TextEncoder().encode(deep) }, 1);
    expect(dl.payload.encoding).toBe("base64");
    expect(() => encodeDeadLetter(dl)).not.toThrow();
    expect(new TextDecoder().decode(originalBody(dl))).toBe(deep);
  });

  it("bound the reason message", () => {
    const dl = buildDeadLetter({ ...input, body: new Uint8Array(), message: "x".repeat(5000) }, 1);
    expect(dl.reason.message.length).toBe(1000);
  });
});
