import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  MAX_ATTACHMENT_HEADER_BYTES,
  decodeAttachmentGetPayload,
  decodeAttachmentPutPayload,
  encodeAttachmentGetPayload,
  encodeAttachmentPutPayload,
} from "./attachment-envelope.js";
import { isProtocolError } from "./errors.js";
import { catchError } from "./test-support.js";

const bytes = new TextEncoder().encode("hello attachment");
const sha = createHash("sha256").update(bytes).digest("hex");
const put = { v: 1 as const, fileName: "a.txt", contentType: "text/plain", size: bytes.byteLength, sha256: sha };
const reply = { v: 1 as const, attachment: { id: "att-1", contentType: "text/plain", size: bytes.byteLength, sha256: sha } };

function frame(json: string, body: Uint8Array): Uint8Array {
  const j = new TextEncoder().encode(json);
  const out = new Uint8Array(4 + j.length + body.length);
  new DataView(out.buffer).setUint32(0, j.length);
  out.set(j, 4);
  out.set(body, 4 + j.length);
  return out;
}

describe("attachment envelopes", () => {
  it("round-trip put and get payloads; layout is u32be length || JSON || bytes", () => {
    const p = encodeAttachmentPutPayload(put, bytes);
    expect(new DataView(p.buffer).getUint32(0)).toBe(JSON.stringify(put).length);
    expect(p).toEqual(frame(JSON.stringify(put), bytes));
    const d = decodeAttachmentPutPayload(p);
    expect(d.header).toEqual(put);
    expect(Buffer.from(d.bytes).toString()).toBe("hello attachment");
    const g = decodeAttachmentGetPayload(encodeAttachmentGetPayload(reply, bytes));
    expect(g.header).toEqual(reply);
    expect(g.bytes).toEqual(bytes);
  });

  it("accepts an empty file and an absent sha256", () => {
    const empty = { v: 1 as const, contentType: "text/plain", size: 0 };
    expect(decodeAttachmentPutPayload(encodeAttachmentPutPayload(empty, new Uint8Array())).bytes.byteLength).toBe(0);
  });

  it("refuses a size mismatch at /size and a digest mismatch at /sha256", () => {
    expect(catchError(() => encodeAttachmentPutPayload({ ...put, size: 3 }, bytes)).problems[0]?.instancePath).toBe("/size");
    expect(catchError(() => decodeAttachmentPutPayload(frame(JSON.stringify({ ...put, size: 99 }), bytes))).problems[0]?.instancePath).toBe("/size");
    expect(catchError(() => decodeAttachmentPutPayload(frame(JSON.stringify({ ...put, sha256: "0".repeat(64) }), bytes))).problems[0]?.instancePath).toBe("/sha256");
    const badReply = { ...reply, attachment: { ...reply.attachment, sha256: "1".repeat(64) } };
    expect(catchError(() => encodeAttachmentGetPayload(badReply, bytes)).problems[0]?.instancePath).toBe("/attachment/sha256");
  });

  it("refuses truncated, oversized and non-JSON envelopes", () => {
    expect(catchError(() => decodeAttachmentPutPayload(new Uint8Array([0, 0]))).code).toBe("PROTOCOL_BAD_JSON");
    expect(catchError(() => decodeAttachmentPutPayload(new Uint8Array([0, 0, 0, 9, 0x7b]))).code).toBe("PROTOCOL_BAD_JSON");
    expect(catchError(() => decodeAttachmentPutPayload(new Uint8Array([0xff, 0xff, 0xff, 0xff]))).code).toBe("PROTOCOL_TOO_LARGE");
    expect(catchError(() => decodeAttachmentPutPayload(frame("not json", bytes))).code).toBe("PROTOCOL_BAD_JSON");
    expect(catchError(() => decodeAttachmentPutPayload(frame("{}", bytes))).code).toBe("PROTOCOL_INVALID");
    expect(catchError(() => decodeAttachmentPutPayload(frame(JSON.stringify({ ...put, v: 2 }), bytes))).code).toBe("PROTOCOL_UNSUPPORTED_VERSION");
    const huge = { ...put, fileName: "x", pad: "y".repeat(MAX_ATTACHMENT_HEADER_BYTES) };
    expect(catchError(() => encodeAttachmentPutPayload(huge, bytes)).code).toBe("PROTOCOL_TOO_LARGE");
  });

  it("works on a view into a larger buffer (byteOffset ≠ 0)", () => {
    const p = encodeAttachmentPutPayload(put, bytes);
    const big = new Uint8Array(p.byteLength + 10);
    big.set(p, 7);
    expect(decodeAttachmentPutPayload(big.subarray(7, 7 + p.byteLength)).header).toEqual(put);
  });

  it("never throws anything but ProtocolError on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (payload) => {
        for (const decode of [decodeAttachmentPutPayload, decodeAttachmentGetPayload]) {
          try {
            decode(payload);
          } catch (err) {
            if (!isProtocolError(err)) throw err;
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
