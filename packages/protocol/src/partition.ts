/**
 * Inbound partitioning: which partition a conversation's events go to.
 *
 * Algorithm (reproducible in any language): FNV-1a 32-bit over the UTF-8 bytes of the
 * conversation id exactly as it appears in the event (a lowercase hex Session ID, so ASCII),
 * as an unsigned 32-bit integer, modulo the partition count.
 *
 * ```
 * h = 0x811c9dc5
 * for each byte b: h = (h XOR b) * 0x01000193 mod 2^32
 * partition = h mod partitions
 * ```
 */
import { ProtocolError } from "./errors.js";
import { MAX_PARTITIONS } from "./limits.js";

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const encoder = new TextEncoder();

/** FNV-1a 32-bit hash of the UTF-8 bytes of `text`, as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of encoder.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/**
 * Throws `PROTOCOL_BAD_NAME` unless `partitions` is an integer in 1..{@link MAX_PARTITIONS}.
 * Returns it unchanged.
 */
export function assertPartitionCount(partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > MAX_PARTITIONS) {
    throw new ProtocolError("PROTOCOL_BAD_NAME", `partition count must be an integer in 1..${MAX_PARTITIONS}`);
  }
  return partitions;
}

/**
 * The partition (0..partitions-1) of a conversation: `fnv1a32(conversation) % partitions`.
 * Stable across processes, versions and languages. Throws `PROTOCOL_BAD_NAME` for an empty
 * conversation or a bad partition count.
 */
export function partitionOf(conversation: string, partitions: number): number {
  assertPartitionCount(partitions);
  if (typeof conversation !== "string" || conversation.length === 0) {
    throw new ProtocolError("PROTOCOL_BAD_NAME", "conversation must be a non-empty string");
  }
  return fnv1a32(conversation) % partitions;
}
