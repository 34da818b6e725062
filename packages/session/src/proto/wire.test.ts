import { create, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { decodeContent, encodeContent, unwrapEnvelope, wrapEnvelope } from "./wire.js";
import { ContentSchema, EnvelopeSchema, Envelope_Type, WebSocketMessageSchema } from "../gen/signalservice_pb.js";
import { toHex, fromHexStrict } from "../encoding.js";
import { isSessionError } from "../errors.js";

describe("protobuf vectors (section 3)", () => {
  it("encodes the WebSocketMessage vector of 3.1", () => {
    expect(toHex(wrapEnvelope(Uint8Array.of(0), 1700000000000))).toBe(
      "080112260a03505554120f2f6170692f76312f6d6573736167651a0c08062880d095ffbc314201002000",
    );
  });
  it("encodes the Content vector of 3.3", () => {
    const content = create(ContentSchema, {
      dataMessage: { body: "hi", profile: { displayName: "Bot", lastProfileUpdateSeconds: 1700000000n } },
      sigTimestamp: 1700000000000n,
    });
    expect(toHex(encodeContent(content))).toBe("0a120a026869aa060b0a03426f741880e2cfaa067880d095ffbc31");
  });
  it("decodes the vectors back", () => {
    const env = unwrapEnvelope(fromHexStrict("080112260a03505554120f2f6170692f76312f6d6573736167651a0c08062880d095ffbc314201002000")!);
    expect(env).toEqual({ timestamp: 1700000000000, sealed: Uint8Array.of(0) });
    const c = decodeContent(fromHexStrict("0a120a026869aa060b0a03426f741880e2cfaa067880d095ffbc31")!);
    expect(c.dataMessage?.body).toBe("hi");
    expect(c.dataMessage?.profile?.displayName).toBe("Bot");
    expect(c.sigTimestamp).toBe(1700000000000n);
  });
  it("wraps with the libsession empty request line when asked", () => {
    const bytes = wrapEnvelope(Uint8Array.of(1, 2), 5, { legacyRequestLine: false });
    expect(unwrapEnvelope(bytes)).toEqual({ timestamp: 5, sealed: Uint8Array.of(1, 2) });
  });
});

describe("malformed envelopes give typed errors", () => {
  const codeOf = (data: Uint8Array): string => {
    try {
      unwrapEnvelope(data);
      return "no-error";
    } catch (err) {
      return isSessionError(err) ? err.code : "crash";
    }
  };
  const ws = (envelope: Uint8Array) => toBinary(WebSocketMessageSchema, create(WebSocketMessageSchema, { type: 1, request: { body: envelope } }));
  it("rejects garbage, empty bodies, missing fields, group envelopes and bad proSig", () => {
    expect(codeOf(Uint8Array.of(0xff, 0xff, 0xff))).toBe("SESSION_MALFORMED");
    expect(codeOf(new Uint8Array(0))).toBe("SESSION_MALFORMED");
    expect(codeOf(ws(toBinary(EnvelopeSchema, create(EnvelopeSchema, { type: Envelope_Type.SESSION_MESSAGE, timestamp: 1n }))))).toBe("SESSION_MALFORMED");
    const noTimestamp = Uint8Array.of(0x08, 0x06, 0x42, 0x01, 0x00);
    expect(codeOf(ws(noTimestamp))).toBe("SESSION_MALFORMED");
    expect(codeOf(ws(toBinary(EnvelopeSchema, create(EnvelopeSchema, { type: Envelope_Type.CLOSED_GROUP_MESSAGE, timestamp: 1n, content: Uint8Array.of(1) }))))).toBe("SESSION_UNSUPPORTED");
    expect(codeOf(ws(toBinary(EnvelopeSchema, create(EnvelopeSchema, { type: 6, timestamp: 1n, content: Uint8Array.of(1), proSig: new Uint8Array(10) }))))).toBe("SESSION_MALFORMED");
    expect(codeOf(ws(toBinary(EnvelopeSchema, create(EnvelopeSchema, { type: 6, timestamp: 1n, content: Uint8Array.of(1), proSig: new Uint8Array(64) }))))).toBe("no-error");
  });
  it("decodeContent rejects garbage", () => {
    expect(() => decodeContent(Uint8Array.of(0x0a, 0xff))).toThrow(expect.objectContaining({ code: "SESSION_MALFORMED" }));
  });
  it("refuses to encode a message missing a required field", () => {
    expect(() => toBinary(EnvelopeSchema, create(EnvelopeSchema, { content: Uint8Array.of(1) }))).toThrow(/required/);
  });
});
