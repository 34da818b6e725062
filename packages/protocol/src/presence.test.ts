import { describe, expect, it } from "vitest";
import { decodeWorkerPresence, encodeWorkerPresence, isProtocolError, ownedPartitions, workerPresenceSubject } from "./index.js";

describe("ownedPartitions", () => {
  it("splits the partitions round-robin over the sorted member names", () => {
    const members = ["w-b", "w-a", "w-c"];
    expect(ownedPartitions("w-a", members, 8)).toEqual([0, 3, 6]);
    expect(ownedPartitions("w-b", members, 8)).toEqual([1, 4, 7]);
    expect(ownedPartitions("w-c", members, 8)).toEqual([2, 5]);
  });

  it("gives every partition to exactly one member, sizes differing by at most one", () => {
    for (const n of [1, 2, 3, 5, 16, 17]) {
      const members = Array.from({ length: n }, (_, i) => `host-${(i * 7919) % 1000}`);
      const seen = new Map<number, string>();
      const sizes: number[] = [];
      for (const m of members) {
        const owned = ownedPartitions(m, members, 16);
        sizes.push(owned.length);
        for (const p of owned) {
          expect(seen.has(p)).toBe(false);
          seen.set(p, m);
        }
      }
      expect([...seen.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 16 }, (_, i) => i));
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    }
  });

  it("counts self when missing from the members, and ignores duplicates", () => {
    expect(ownedPartitions("solo", [], 4)).toEqual([0, 1, 2, 3]);
    expect(ownedPartitions("b", ["a", "a", "a"], 4)).toEqual([1, 3]);
  });

  it("sorts by code units (byte order for ASCII), not by locale", () => {
    // "B" (0x42) sorts before "a" (0x61); a locale-aware sort would put "a" first.
    expect(ownedPartitions("B", ["a", "B"], 2)).toEqual([0]);
    expect(ownedPartitions("a", ["a", "B"], 2)).toEqual([1]);
  });
});

describe("WorkerPresence", () => {
  it("round-trips and refuses bad names and values", () => {
    const msg = { v: 1 as const, instance: "host-1.a_b", set: "host", state: "up" as const, intervalMs: 1000, startedAt: 5 };
    expect(decodeWorkerPresence(encodeWorkerPresence(msg))).toEqual(msg);
    for (const bad of [{ ...msg, instance: "a b" }, { ...msg, set: "Host" }, { ...msg, intervalMs: 10 }, { ...msg, state: "down" }]) {
      let err: unknown;
      try {
        encodeWorkerPresence(bad as never);
      } catch (e) {
        err = e;
      }
      expect(isProtocolError(err)).toBe(true);
    }
  });

  it("has one subject per bot and consumer set", () => {
    expect(workerPresenceSubject("demo", "host")).toBe("sb.plugin-host.demo.presence.host");
    expect(() => workerPresenceSubject("demo", "a.b")).toThrow();
    expect(() => workerPresenceSubject("demo", "")).toThrow();
    expect(() => workerPresenceSubject("demo", "*")).toThrow();
  });
});
