/**
 * Attachment encryption (docs/session-protocol.md 6.1, 6.2).
 * - Legacy scheme (sent and received): AES-256-CBC + HMAC-SHA256, random 64-byte key, SHA-256 digest.
 * - Deterministic scheme (received only): 'S' || secretstream XChaCha20-Poly1305, 32-byte key.
 */
import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { SessionError } from "../errors.js";
import { concatBytes } from "../encoding.js";
import { loadSodium } from "../crypto/sodium.js";

/** Largest attachment plaintext accepted for sending (the encrypted upload must stay under 10,000,000 bytes). */
export const MAX_ATTACHMENT_BYTES = 9_000_000;
const PADDED_CAP = 10_000_000;

/** Padded size of an attachment of `length` bytes: `max(541, floor(1.05^ceil(log(L)/log(1.05))))`, capped. */
export function paddedAttachmentSize(length: number): number {
  if (length <= 0) return 541;
  const padded = Math.max(541, Math.floor(1.05 ** Math.ceil(Math.log(length) / Math.log(1.05))));
  if (padded < length) return length;
  return padded > PADDED_CAP && length <= PADDED_CAP ? Math.max(length, PADDED_CAP) : padded;
}

/** An encrypted attachment ready to upload. */
export interface EncryptedAttachment {
  /** iv(16) || AES-CBC ciphertext || HMAC(32): the bytes to upload. */
  blob: Uint8Array;
  /** aesKey(32) || macKey(32). */
  key: Uint8Array;
  /** SHA-256 of `blob`. */
  digest: Uint8Array;
  /** Unpadded plaintext size. */
  size: number;
}

/**
 * Encrypts with the legacy scheme; `pad` (default true) zero-pads the plaintext as Session does
 * for real attachments.
 */
export function encryptAttachment(plaintext: Uint8Array, options: { pad?: boolean } = {}): EncryptedAttachment {
  if (plaintext.length > MAX_ATTACHMENT_BYTES) {
    throw new SessionError("SESSION_ATTACHMENT_TOO_LARGE", `an attachment is at most ${MAX_ATTACHMENT_BYTES} bytes`, { details: { limit: MAX_ATTACHMENT_BYTES, actual: plaintext.length } });
  }
  const padded = options.pad === false ? plaintext : (() => {
    const out = new Uint8Array(paddedAttachmentSize(plaintext.length));
    out.set(plaintext);
    return out;
  })();
  const key = new Uint8Array(randomBytes(64));
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-256-cbc", key.subarray(0, 32), iv);
  const ct = Buffer.concat([cipher.update(padded), cipher.final()]);
  const mac = createHmac("sha256", key.subarray(32)).update(iv).update(ct).digest();
  const blob = concatBytes(iv, ct, mac);
  return { blob, key, digest: new Uint8Array(createHash("sha256").update(blob).digest()), size: plaintext.length };
}

function truncate(data: Uint8Array, size: number): Uint8Array {
  return size > 0 && data.length > size ? data.subarray(0, size) : data;
}

/**
 * Decrypts a legacy-scheme blob: checks the HMAC and the digest (required), decrypts, truncates to `size`.
 * @throws SessionError `SESSION_ATTACHMENT_DIGEST_MISMATCH`, `SESSION_DECRYPT_FAILED`, `SESSION_MALFORMED`
 */
export function decryptAttachmentLegacy(blob: Uint8Array, key: Uint8Array, digest: Uint8Array | undefined, size: number): Uint8Array {
  if (key.length !== 64) throw new SessionError("SESSION_MALFORMED", "legacy attachment key must be 64 bytes");
  if (digest === undefined || digest.length !== 32) throw new SessionError("SESSION_ATTACHMENT_DIGEST_MISMATCH", "attachment has no digest");
  const actualDigest = createHash("sha256").update(blob).digest();
  if (!timingSafeEqual(actualDigest, digest)) throw new SessionError("SESSION_ATTACHMENT_DIGEST_MISMATCH", "attachment digest does not match the downloaded file");
  if (blob.length < 16 + 16 + 32) throw new SessionError("SESSION_MALFORMED", "attachment blob too short");
  const iv = blob.subarray(0, 16);
  const ct = blob.subarray(16, blob.length - 32);
  const mac = blob.subarray(blob.length - 32);
  const expected = createHmac("sha256", key.subarray(32)).update(iv).update(ct).digest();
  if (!timingSafeEqual(expected, mac)) throw new SessionError("SESSION_DECRYPT_FAILED", "attachment MAC does not verify");
  try {
    const decipher = createDecipheriv("aes-256-cbc", key.subarray(0, 32), iv);
    const plain = new Uint8Array(Buffer.concat([decipher.update(ct), decipher.final()]));
    return truncate(plain, size);
  } catch (cause) {
    throw new SessionError("SESSION_DECRYPT_FAILED", "attachment does not decrypt", { cause });
  }
}

const STREAM_CHUNK = 32_768;
const STREAM_ABYTES = 17;

/**
 * Decrypts a deterministic-scheme blob ('S' || header(24) || secretstream chunks), strips the
 * 0x00* 0x01 prefix padding and truncates to `size`.
 * @throws SessionError `SESSION_DECRYPT_FAILED`, `SESSION_MALFORMED`
 */
export async function decryptAttachmentDeterministic(blob: Uint8Array, key: Uint8Array, size: number): Promise<Uint8Array> {
  const s = await loadSodium();
  if (key.length !== 32) throw new SessionError("SESSION_MALFORMED", "deterministic attachment key must be 32 bytes");
  if (blob.length < 1 + 24 + STREAM_ABYTES || blob[0] !== 0x53) throw new SessionError("SESSION_MALFORMED", "not a deterministic attachment blob");
  let state;
  try {
    state = s.crypto_secretstream_xchacha20poly1305_init_pull(blob.subarray(1, 25), key);
  } catch (cause) {
    throw new SessionError("SESSION_DECRYPT_FAILED", "attachment stream header rejected", { cause });
  }
  const parts: Uint8Array[] = [];
  let offset = 25;
  let final = false;
  while (offset < blob.length) {
    if (final) throw new SessionError("SESSION_MALFORMED", "data after the final attachment chunk");
    const end = Math.min(blob.length, offset + STREAM_CHUNK + STREAM_ABYTES);
    let out: { message: Uint8Array; tag: number } | false;
    try {
      out = s.crypto_secretstream_xchacha20poly1305_pull(state, blob.subarray(offset, end), null);
    } catch {
      out = false;
    }
    if (out === false) throw new SessionError("SESSION_DECRYPT_FAILED", "attachment chunk does not decrypt");
    parts.push(out.message);
    final = out.tag === s.crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    offset = end;
  }
  if (!final) throw new SessionError("SESSION_MALFORMED", "attachment stream is truncated (no final chunk)");
  const stream = concatBytes(...parts);
  let i = 0;
  while (i < stream.length && stream[i] === 0x00) i++;
  if (stream[i] !== 0x01) throw new SessionError("SESSION_MALFORMED", "attachment padding marker missing");
  return truncate(stream.subarray(i + 1), size);
}
