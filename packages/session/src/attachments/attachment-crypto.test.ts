import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  decryptAttachmentDeterministic,
  decryptAttachmentLegacy,
  encryptAttachment,
  paddedAttachmentSize,
  MAX_ATTACHMENT_BYTES,
} from "./attachment-crypto.js";
import { loadSodium } from "../crypto/sodium.js";
import { concatBytes } from "../encoding.js";

const sodium = await loadSodium();

describe("legacy attachment scheme (6.1)", () => {
  it("pads sizes as Session does", () => {
    expect(paddedAttachmentSize(1)).toBe(541);
    expect(paddedAttachmentSize(541)).toBe(541);
    expect(paddedAttachmentSize(542)).toBeGreaterThanOrEqual(542);
    for (const l of [1000, 50_000, 1_234_567]) {
      const p = paddedAttachmentSize(l);
      expect(p).toBeGreaterThanOrEqual(l);
      expect(p).toBeLessThanOrEqual(Math.ceil(l * 1.05) + 1);
    }
  });
  it("round-trips, with the digest and size checked", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 5000 }), (data) => {
        const enc = encryptAttachment(data);
        expect(enc.key.length).toBe(64);
        expect(enc.size).toBe(data.length);
        expect((enc.blob.length - 48) % 16).toBe(0);
        expect(decryptAttachmentLegacy(enc.blob, enc.key, enc.digest, enc.size)).toEqual(data);
      }),
      { numRuns: 40 },
    );
  });
  it("rejects a tampered blob, a wrong digest, a missing digest and a wrong key", () => {
    const enc = encryptAttachment(new Uint8Array(randomBytes(3000)));
    const tampered = enc.blob.slice();
    tampered[20] = (tampered[20] ?? 0) ^ 1;
    expect(() => decryptAttachmentLegacy(tampered, enc.key, enc.digest, enc.size)).toThrow(expect.objectContaining({ code: "SESSION_ATTACHMENT_DIGEST_MISMATCH" }));
    const digestOfTampered = new Uint8Array(require_sha256(tampered));
    expect(() => decryptAttachmentLegacy(tampered, enc.key, digestOfTampered, enc.size)).toThrow(expect.objectContaining({ code: "SESSION_DECRYPT_FAILED" }));
    expect(() => decryptAttachmentLegacy(enc.blob, enc.key, undefined, enc.size)).toThrow(expect.objectContaining({ code: "SESSION_ATTACHMENT_DIGEST_MISMATCH" }));
    const wrongKey = enc.key.slice();
    wrongKey[40] = (wrongKey[40] ?? 0) ^ 1;
    expect(() => decryptAttachmentLegacy(enc.blob, wrongKey, enc.digest, enc.size)).toThrow(expect.objectContaining({ code: "SESSION_DECRYPT_FAILED" }));
    expect(() => decryptAttachmentLegacy(enc.blob, enc.key.subarray(0, 32), enc.digest, enc.size)).toThrow(expect.objectContaining({ code: "SESSION_MALFORMED" }));
  });
  it("refuses plaintexts over the limit", () => {
    expect(() => encryptAttachment(new Uint8Array(MAX_ATTACHMENT_BYTES + 1))).toThrow(expect.objectContaining({ code: "SESSION_ATTACHMENT_TOO_LARGE" }));
  });
});

import { createHash } from "node:crypto";
function require_sha256(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

/** Builds a deterministic-scheme blob the way 6.2 describes (random key instead of the derived one). */
function deterministicBlob(file: Uint8Array, paddingLength: number): { blob: Uint8Array; key: Uint8Array } {
  const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
  const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
  const stream = concatBytes(new Uint8Array(paddingLength - 1), Uint8Array.of(1), file);
  const chunks: Uint8Array[] = [Uint8Array.of(0x53), header];
  for (let off = 0; off < stream.length || off === 0; off += 32768) {
    const piece = stream.subarray(off, off + 32768);
    const last = off + 32768 >= stream.length;
    chunks.push(
      sodium.crypto_secretstream_xchacha20poly1305_push(state, piece, null, last ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE),
    );
    if (last) break;
  }
  return { blob: concatBytes(...chunks), key };
}

describe("deterministic attachment scheme (6.2), decryption", () => {
  it("decrypts single- and multi-chunk blobs and strips the prefix padding", async () => {
    for (const [size, pad] of [[10, 1], [1000, 37], [70_000, 500]] as const) {
      const file = new Uint8Array(randomBytes(size));
      const { blob, key } = deterministicBlob(file, pad);
      expect(await decryptAttachmentDeterministic(blob, key, size)).toEqual(file);
    }
  });
  it("rejects a wrong key, a truncated stream, a bad marker and a wrong magic byte", async () => {
    const file = new Uint8Array(randomBytes(70_000));
    const { blob, key } = deterministicBlob(file, 3);
    const other = sodium.crypto_secretstream_xchacha20poly1305_keygen();
    await expect(decryptAttachmentDeterministic(blob, other, file.length)).rejects.toMatchObject({ code: "SESSION_DECRYPT_FAILED" });
    await expect(decryptAttachmentDeterministic(blob.subarray(0, 25 + 32768 + 17), key, file.length)).rejects.toMatchObject({ code: "SESSION_MALFORMED" });
    const magic = blob.slice();
    magic[0] = 0x54;
    await expect(decryptAttachmentDeterministic(magic, key, file.length)).rejects.toMatchObject({ code: "SESSION_MALFORMED" });
    const noMarker = deterministicBlob(new Uint8Array(5), 1);
    // replace marker: build a stream without 0x01 by hand
    const k = sodium.crypto_secretstream_xchacha20poly1305_keygen();
    const p = sodium.crypto_secretstream_xchacha20poly1305_init_push(k);
    const bad = concatBytes(Uint8Array.of(0x53), p.header, sodium.crypto_secretstream_xchacha20poly1305_push(p.state, Uint8Array.of(0, 0, 2, 3), null, sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL));
    await expect(decryptAttachmentDeterministic(bad, k, 4)).rejects.toMatchObject({ code: "SESSION_MALFORMED" });
    expect(noMarker.blob.length).toBeGreaterThan(25);
  });
});
