import { describe, expect, it } from "vitest";
import { evenSwarmIds, nearestSwarm, swarmSpaceValue } from "./swarm.js";

// Reference 1.4: the test identity's X25519 key and its swarm-space value.
const TEST_X25519 = "4830367d369d94605247999a375dbd0a0f65fdec5de1535612bcb6d4de452c69";

describe("swarmSpaceValue", () => {
  it("matches the reference vector of the 1.4 test identity", () => {
    expect(swarmSpaceValue(TEST_X25519)).toBe(553631452829603413n);
    expect(swarmSpaceValue(`05${TEST_X25519}`)).toBe(0x07aee4df82645655n);
    expect(swarmSpaceValue(Buffer.from(`05${TEST_X25519}`, "hex"))).toBe(553631452829603413n);
  });

  it("XORs the four big-endian words", () => {
    expect(swarmSpaceValue("eeeeeeeeeeeeeeee777777777777777711111111111111118888888888888888")).toBe(0n);
    expect(swarmSpaceValue("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")).toBe(0n);
    expect(swarmSpaceValue("fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe")).toBe(1n);
    expect(swarmSpaceValue("ffffffffffffffffffffffffffffffffffffffffffffffff7fffffffffffffff")).toBe(1n << 63n);
    expect(swarmSpaceValue("000000000000000000000000000000000000000000000000ffffffffffffffff")).toBe((1n << 64n) - 1n);
    expect(swarmSpaceValue("3506f4a71324b7dd114eddbf4e311f39dde243e1f2cb97c40db1961f70ebaae8")).toBe(17589930838143112648n);
  });

  it("rejects keys of the wrong size", () => {
    expect(() => swarmSpaceValue("abcd")).toThrow(RangeError);
  });
});

describe("nearestSwarm", () => {
  const ids = [100n, 200n, 300n, 399n, 498n, 596n, 694n];
  const pick = (v: bigint, list = ids): bigint => nearestSwarm(v, list);

  it("takes exact matches and the nearest id", () => {
    expect(pick(100n)).toBe(100n);
    expect(pick(498n)).toBe(498n);
    expect(pick(0n)).toBe(100n);
    expect(pick(1n)).toBe(100n);
  });

  it("prefers the lower id on a tie", () => {
    expect(pick(149n)).toBe(100n);
    expect(pick(150n)).toBe(100n);
    expect(pick(151n)).toBe(200n);
    expect(pick(250n)).toBe(200n);
    expect(pick(251n)).toBe(300n);
    expect(pick(547n)).toBe(498n);
    expect(pick(548n)).toBe(596n);
  });

  it("wraps around the 2^64 ring", () => {
    expect(pick(0x8000000000000000n)).toBe(694n);
    expect(pick(0xa000000000000000n)).toBe(100n);
    expect(pick(0xffffffffffffffffn)).toBe(100n);
    // Midpoint between 694 and 100 the long way round goes "down" to 694.
    expect(pick(0x800000000000018dn)).toBe(694n);
    expect(pick(0x800000000000018en)).toBe(100n);
    const withTop = [...ids, (1n << 64n) - 20n];
    expect(pick(0x28n, withTop)).toBe((1n << 64n) - 20n);
    expect(pick(0x29n, withTop)).toBe(100n);
    expect(pick(0xffffffffffffffffn, [0n, ...ids])).toBe(0n);
  });

  it("always answers the only swarm", () => {
    expect(pick(12345n, [7n])).toBe(7n);
  });
});

describe("evenSwarmIds", () => {
  it("spreads ids evenly and sorted", () => {
    const ids = evenSwarmIds(4);
    expect(ids).toHaveLength(4);
    expect(ids[1]! - ids[0]!).toBe(1n << 62n);
    expect([...ids].sort((a, b) => (a < b ? -1 : 1))).toEqual(ids);
  });
});
