import { crc32 } from "node:zlib";
import { ChunkError } from "./errors.js";

/** Version byte of the frames this package writes and reads. */
export const FRAME_VERSION = 1;
/** Longest message id, in UTF-8 bytes. */
export const MAX_ID_BYTES = 64;
/** Length of the SHA-256 digest carried by every frame. */
export const DIGEST_BYTES = 32;
/** Largest `totalBytes` a frame may carry (2^53 − 1, the largest exact JS integer). */
export const MAX_TOTAL_BYTES = Number.MAX_SAFE_INTEGER;
/** Largest fragment count / index field value + 1 (a u32). */
export const MAX_COUNT = 0xffff_ffff;

// version(1) idLen(1) index(4) count(4) fragmentSize(4) totalBytes(8) digest(32)
const FIXED_HEADER_BYTES = 1 + 1 + 4 + 4 + 4 + 8 + DIGEST_BYTES;
const CRC_BYTES = 4;

/** One piece of a payload, as carried by one frame. */
export interface Fragment {
  /** Message id: 1..64 UTF-8 bytes; the same for every fragment of a payload. */
  readonly id: string;
  /** 0-based position of this fragment. */
  readonly index: number;
  /** Number of fragments of the payload (≥ 1). */
  readonly count: number;
  /** Body length of every fragment but the last (≥ 1); fragment `i` starts at byte `i * fragmentSize`. */
  readonly fragmentSize: number;
  /** Length of the whole payload in bytes. */
  readonly totalBytes: number;
  /** SHA-256 of the whole payload (32 bytes). */
  readonly digest: Uint8Array;
  /** This fragment's bytes of the payload. */
  readonly body: Uint8Array;
}

const encoder = new TextEncoder();
// fatal: an id must round-trip bytes → string → bytes; ignoreBOM: keep a leading U+FEFF as data.
const idDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Frame bytes added around a body for an id of `idBytes` UTF-8 bytes. */
export function frameOverhead(idBytes: number): number {
  return FIXED_HEADER_BYTES + idBytes + CRC_BYTES;
}

/** UTF-8 bytes of an id, checked against the id rules. */
export function encodeId(id: string): Uint8Array {
  if (typeof id !== "string" || !id.isWellFormed()) {
    throw new ChunkError("CHUNK_INVALID_ARGUMENT", "message id must be a well-formed string");
  }
  const bytes = encoder.encode(id);
  if (bytes.length < 1 || bytes.length > MAX_ID_BYTES) {
    throw new ChunkError("CHUNK_INVALID_ARGUMENT", `message id must be 1..${MAX_ID_BYTES} UTF-8 bytes, got ${bytes.length}`, {
      details: { limit: MAX_ID_BYTES, actual: bytes.length },
    });
  }
  return bytes;
}

/** Body length that fragment `index` must have, given the payload's geometry. */
export function expectedBodyLength(index: number, count: number, fragmentSize: number, totalBytes: number): number {
  return index < count - 1 ? fragmentSize : totalBytes - (count - 1) * fragmentSize;
}

/** The fragment count of a payload of `totalBytes` cut into bodies of `fragmentSize`. */
export function fragmentCount(totalBytes: number, fragmentSize: number): number {
  return totalBytes === 0 ? 1 : Math.ceil(totalBytes / fragmentSize);
}

/**
 * Checks the geometry of a fragment: returns a reason when it is inconsistent, else undefined.
 * Shared by encode, decode and the reassembler so the three agree on what "well-formed" means.
 */
export function fragmentProblem(f: Fragment): string | undefined {
  const { index, count, fragmentSize, totalBytes } = f;
  if (!Number.isInteger(count) || count < 1 || count > MAX_COUNT) return `bad fragment count ${count}`;
  if (!Number.isInteger(index) || index < 0 || index >= count) return `index ${index} outside 0..${count - 1}`;
  if (!Number.isInteger(fragmentSize) || fragmentSize < 1 || fragmentSize > MAX_COUNT) return `bad fragment size ${fragmentSize}`;
  if (!Number.isSafeInteger(totalBytes) || totalBytes < 0) return `bad total length ${totalBytes}`;
  if (fragmentCount(totalBytes, fragmentSize) !== count) {
    return `count ${count} does not match total ${totalBytes} / fragment size ${fragmentSize}`;
  }
  if (!(f.digest instanceof Uint8Array) || f.digest.length !== DIGEST_BYTES) return "digest must be 32 bytes";
  if (!(f.body instanceof Uint8Array)) return "body must be a Uint8Array";
  const want = expectedBodyLength(index, count, fragmentSize, totalBytes);
  if (f.body.length !== want) return `fragment ${index} body is ${f.body.length} bytes, expected ${want}`;
  return undefined;
}

/** Encodes one fragment as a frame (layout in the README). Throws `CHUNK_INVALID_ARGUMENT` on an inconsistent fragment. */
export function encodeFragment(f: Fragment): Uint8Array {
  const idBytes = encodeId(f.id);
  const problem = fragmentProblem(f);
  if (problem !== undefined) throw new ChunkError("CHUNK_INVALID_ARGUMENT", `cannot encode fragment: ${problem}`, { details: { id: f.id } });
  const L = idBytes.length;
  const bodyAt = FIXED_HEADER_BYTES + L;
  const size = bodyAt + f.body.length + CRC_BYTES;
  // Unzeroed: every byte is written below. Unpooled, so a frame never shares memory with other data.
  const frame = size >= 4096 ? new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size) : new Uint8Array(size);
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  frame[0] = FRAME_VERSION;
  frame[1] = L;
  frame.set(idBytes, 2);
  view.setUint32(2 + L, f.index);
  view.setUint32(6 + L, f.count);
  view.setUint32(10 + L, f.fragmentSize);
  view.setBigUint64(14 + L, BigInt(f.totalBytes));
  frame.set(f.digest, 22 + L);
  frame.set(f.body, bodyAt);
  view.setUint32(size - CRC_BYTES, crc32(frame.subarray(0, size - CRC_BYTES)));
  return frame;
}

/**
 * Decodes and checks one frame. The body of the returned fragment is a view into `bytes` (no copy).
 * Throws `ChunkError`: `CHUNK_MALFORMED` (too short, bad lengths, inconsistent geometry, bad id),
 * `CHUNK_BAD_VERSION` (unknown version byte), `CHUNK_CORRUPT` (CRC-32 mismatch: any changed byte).
 */
export function decodeFragment(bytes: Uint8Array): Fragment {
  if (!(bytes instanceof Uint8Array)) throw new ChunkError("CHUNK_MALFORMED", "frame must be a Uint8Array");
  if (bytes.length < 1) throw new ChunkError("CHUNK_MALFORMED", "empty frame");
  if (bytes[0] !== FRAME_VERSION) {
    throw new ChunkError("CHUNK_BAD_VERSION", `unsupported frame version ${bytes[0]}, expected ${FRAME_VERSION}`);
  }
  if (bytes.length < frameOverhead(1)) throw new ChunkError("CHUNK_MALFORMED", `frame of ${bytes.length} bytes is too short`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const crcAt = bytes.length - CRC_BYTES;
  const crc = crc32(bytes.subarray(0, crcAt));
  if (crc !== view.getUint32(crcAt)) throw new ChunkError("CHUNK_CORRUPT", "frame checksum mismatch");
  const L = bytes[1]!;
  if (L < 1 || L > MAX_ID_BYTES) throw new ChunkError("CHUNK_MALFORMED", `id length ${L} outside 1..${MAX_ID_BYTES}`);
  const bodyAt = FIXED_HEADER_BYTES + L;
  if (bytes.length < bodyAt + CRC_BYTES) throw new ChunkError("CHUNK_MALFORMED", `frame of ${bytes.length} bytes is too short`);
  let id: string;
  try {
    id = idDecoder.decode(bytes.subarray(2, 2 + L));
  } catch (cause) {
    throw new ChunkError("CHUNK_MALFORMED", "message id is not valid UTF-8", { cause });
  }
  const total = view.getBigUint64(14 + L);
  if (total > BigInt(MAX_TOTAL_BYTES)) {
    throw new ChunkError("CHUNK_MALFORMED", `total length ${total} exceeds 2^53-1`, { details: { id } });
  }
  const f: Fragment = {
    id,
    index: view.getUint32(2 + L),
    count: view.getUint32(6 + L),
    fragmentSize: view.getUint32(10 + L),
    totalBytes: Number(total),
    digest: bytes.subarray(22 + L, bodyAt),
    body: bytes.subarray(bodyAt, crcAt),
  };
  const problem = fragmentProblem(f);
  if (problem !== undefined) throw new ChunkError("CHUNK_MALFORMED", problem, { details: { id } });
  return f;
}
