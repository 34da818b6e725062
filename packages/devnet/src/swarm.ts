// Pubkey -> swarm mapping of the storage server (reference 4.3), reproduced exactly.

const U64 = (1n << 64n) - 1n;

/** XOR of the four big-endian uint64 words of the 32 key bytes (after the 05/03 prefix). */
export function swarmSpaceValue(pubkey: Uint8Array | string): bigint {
  let bytes: Uint8Array;
  if (typeof pubkey === "string") {
    const hex = pubkey.length === 66 ? pubkey.slice(2) : pubkey;
    bytes = Buffer.from(hex, "hex");
  } else {
    bytes = pubkey.length === 33 ? pubkey.subarray(1) : pubkey;
  }
  if (bytes.length !== 32) throw new RangeError("swarmSpaceValue: expected a 32-byte key");
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let v = 0n;
  for (let i = 0; i < 32; i += 8) v ^= view.getBigUint64(i, false);
  return v;
}

/**
 * Picks the swarm whose id is nearest to `value` on the 2^64 ring: the first id >= value
 * (wrapping to the lowest) against the one just below it (wrapping to the highest); a tie goes
 * to the one below. `sortedIds` must be sorted ascending and non-empty.
 */
export function nearestSwarm(value: bigint, sortedIds: readonly bigint[]): bigint {
  const n = sortedIds.length;
  if (n === 0) throw new RangeError("nearestSwarm: no swarms");
  if (n === 1) return sortedIds[0]!;
  let r = sortedIds.findIndex((id) => id >= value);
  if (r === -1) r = 0;
  const l = r === 0 ? n - 1 : r - 1;
  const right = sortedIds[r]!;
  const left = sortedIds[l]!;
  const dRight = (right - value) & U64;
  const dLeft = (value - left) & U64;
  return dRight < dLeft ? right : left;
}

/** `count` swarm ids spread evenly over the uint64 space (the first at half a step). */
export function evenSwarmIds(count: number): bigint[] {
  const step = (1n << 64n) / BigInt(count);
  const ids: bigint[] = [];
  for (let i = 0; i < count; i++) ids.push(step / 2n + step * BigInt(i));
  return ids;
}
