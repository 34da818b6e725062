import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limiter.js";

describe("RateLimiter", () => {
  it("allows a burst, refuses with one notice, then refills at the configured rate", () => {
    let now = 0;
    const rl = new RateLimiter({ perMinute: 6, burst: 3, now: () => now });
    expect([rl.take("a"), rl.take("a"), rl.take("a")]).toEqual(["allowed", "allowed", "allowed"]);
    expect(rl.take("a")).toBe("limited-first");
    expect(rl.take("a")).toBe("limited");
    expect(rl.take("a")).toBe("limited");
    // Other senders are independent.
    expect(rl.take("b")).toBe("allowed");
    // 6 per minute = one token per 10 s.
    now += 9_999;
    expect(rl.take("a")).toBe("limited");
    now += 1;
    expect(rl.take("a")).toBe("allowed");
    // A new episode gets a new notice.
    expect(rl.take("a")).toBe("limited-first");
    // Refill never exceeds the burst.
    now += 10 * 60_000;
    expect([rl.take("a"), rl.take("a"), rl.take("a"), rl.take("a")]).toEqual(["allowed", "allowed", "allowed", "limited-first"]);
  });

  it("bounds memory: idle buckets are forgotten first, then the oldest", () => {
    let now = 0;
    const rl = new RateLimiter({ perMinute: 60, burst: 1, now: () => now, maxKeys: 3 });
    rl.take("a");
    rl.take("b");
    rl.take("c");
    expect(rl.size).toBe(3);
    now += 1000; // a, b, c are full again: all evictable
    rl.take("d");
    expect(rl.size).toBe(1);
    rl.take("e");
    rl.take("f");
    rl.take("g"); // none idle: evicts the oldest (d)
    expect(rl.size).toBe(3);
    expect(rl.take("d")).toBe("allowed"); // d was forgotten, so it starts full
  });

  it("rejects nonsense settings", () => {
    expect(() => new RateLimiter({ perMinute: 0, burst: 1 })).toThrow(RangeError);
    expect(() => new RateLimiter({ perMinute: 1, burst: 0 })).toThrow(RangeError);
  });
});
