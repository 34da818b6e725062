import { describe, expect, it } from "vitest";
import { fnv1a32, partitionOf } from "./partition.js";
import { MAX_PARTITIONS } from "./limits.js";

// Vectors computed independently (Python, FNV-1a 32 over UTF-8): keep them fixed forever; a change
// here re-partitions every deployment and breaks per-conversation ordering during the roll-out.
const VECTORS: [string, number, number, number, number][] = [
  // text, fnv1a32, %16, %7, %1024
  ["", 0x811c9dc5, 5, 2, 453],
  ["a", 0xe40c292c, 12, 5, 300],
  ["foobar", 0xbf9cf968, 8, 0, 360],
  ["05" + "0".repeat(64), 0x9d88d86e, 14, 3, 110],
  ["05" + "a".repeat(64), 0xffe4b72e, 14, 5, 814],
  ["05" + "f".repeat(64), 0xceccd4ee, 14, 6, 238],
  ["0536" + "1234567890abcdef".repeat(3) + "deadbeefcafebabe", 0x61ad7688, 8, 1, 648],
  ["héllo", 0x4aa48540, 0, 4, 320],
];

describe("fnv1a32", () => {
  it.each(VECTORS)("hashes %j to the fixed vector", (text, hash) => {
    expect(fnv1a32(text)).toBe(hash);
  });
});

describe("partitionOf", () => {
  it.each(VECTORS.filter(([t]) => t !== ""))("maps %j to fixed partitions", (text, _hash, p16, p7, p1024) => {
    expect(partitionOf(text, 16)).toBe(p16);
    expect(partitionOf(text, 7)).toBe(p7);
    expect(partitionOf(text, 1024)).toBe(p1024);
    expect(partitionOf(text, 1)).toBe(0);
  });

  it("rejects bad partition counts and empty conversations with PROTOCOL_BAD_NAME", () => {
    for (const n of [0, -1, 1.5, Number.NaN, MAX_PARTITIONS + 1, Infinity]) {
      expect(() => partitionOf("05" + "a".repeat(64), n)).toThrow(expect.objectContaining({ code: "PROTOCOL_BAD_NAME" }));
    }
    expect(() => partitionOf("", 16)).toThrow(expect.objectContaining({ code: "PROTOCOL_BAD_NAME" }));
  });

  it("spreads random Session IDs evenly", () => {
    const counts = new Array<number>(16).fill(0);
    let seed = 12345;
    const hex = "0123456789abcdef";
    for (let i = 0; i < 16_000; i++) {
      let id = "05";
      for (let j = 0; j < 64; j++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        id += hex[(seed >>> 16) & 15];
      }
      counts[partitionOf(id, 16)]!++;
    }
    for (const c of counts) {
      expect(c).toBeGreaterThan(800);
      expect(c).toBeLessThan(1200);
    }
  });
});
