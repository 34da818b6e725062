import { createHash, randomBytes } from "node:crypto";
import { ChunkError } from "./errors.js";
import { encodeId, fragmentCount, frameOverhead, MAX_COUNT, type Fragment } from "./frame.js";

/** Options of {@link split}. */
export interface SplitOptions {
  /** Largest encoded frame (header + body + CRC), in bytes. Must leave room for ≥ 1 body byte. */
  maxFragmentBytes: number;
  /** Message id (1..64 UTF-8 bytes). Default: 16 random bytes as 32 lowercase hex characters. */
  id?: string;
}

/** A fresh message id: 16 random bytes as 32 lowercase hex characters. */
export function newMessageId(): string {
  return randomBytes(16).toString("hex");
}

/** SHA-256 of `bytes`. */
export function sha256(bytes: Uint8Array): Uint8Array {
  const d = createHash("sha256").update(bytes).digest();
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/**
 * Cuts `payload` into fragments whose encoded frames are at most `maxFragmentBytes` long.
 * Bodies are views into `payload` (no copy): don't change `payload` until they are encoded.
 * An empty payload gives one fragment with an empty body.
 */
export function split(payload: Uint8Array, opts: SplitOptions): Fragment[] {
  if (!(payload instanceof Uint8Array)) throw new ChunkError("CHUNK_INVALID_ARGUMENT", "payload must be a Uint8Array");
  const id = opts.id ?? newMessageId();
  const idBytes = encodeId(id);
  const max = opts.maxFragmentBytes;
  if (!Number.isSafeInteger(max)) throw new ChunkError("CHUNK_INVALID_ARGUMENT", `maxFragmentBytes must be an integer, got ${max}`);
  const fragmentSize = Math.min(max - frameOverhead(idBytes.length), MAX_COUNT);
  if (fragmentSize < 1) {
    throw new ChunkError("CHUNK_INVALID_ARGUMENT", `maxFragmentBytes ${max} leaves no room for a body (overhead ${frameOverhead(idBytes.length)})`, {
      details: { limit: frameOverhead(idBytes.length) + 1, actual: max },
    });
  }
  const totalBytes = payload.length;
  const count = fragmentCount(totalBytes, fragmentSize);
  if (count > MAX_COUNT) {
    throw new ChunkError("CHUNK_TOO_MANY_FRAGMENTS", `payload needs ${count} fragments, more than ${MAX_COUNT}`, {
      details: { id, limit: MAX_COUNT, actual: count },
    });
  }
  const digest = sha256(payload);
  const out: Fragment[] = new Array<Fragment>(count);
  for (let index = 0; index < count; index++) {
    const start = index * fragmentSize;
    out[index] = { id, index, count, fragmentSize, totalBytes, digest, body: payload.subarray(start, Math.min(start + fragmentSize, totalBytes)) };
  }
  return out;
}

/** {@link split} of the UTF-8 JSON text of `value`. Throws `CHUNK_BAD_JSON` if `value` has no JSON form. */
export function splitJson(value: unknown, opts: SplitOptions): Fragment[] {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new ChunkError("CHUNK_BAD_JSON", "value cannot be serialised as JSON", { cause });
  }
  if (text === undefined) throw new ChunkError("CHUNK_BAD_JSON", "value has no JSON form");
  return split(new TextEncoder().encode(text), opts);
}
