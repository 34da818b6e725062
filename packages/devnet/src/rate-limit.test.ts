import { describe, expect, it } from "vitest";
import { RateLimiter } from "./rate-limit.js";

describe("RateLimiter", () => {
  it("allows the burst, then refills at the given rate, per key", () => {
    const rl = new RateLimiter(3, 2);
    const t = 1_000_000;
    expect([rl.take("a", t), rl.take("a", t), rl.take("a", t), rl.take("a", t)]).toEqual([true, true, true, false]);
    expect(rl.take("b", t)).toBe(true);
    expect(rl.take("a", t + 499)).toBe(false);
    expect(rl.take("a", t + 500)).toBe(true);
    expect(rl.take("a", t + 500)).toBe(false);
    expect([rl.take("a", t + 10_000), rl.take("a", t + 10_000), rl.take("a", t + 10_000), rl.take("a", t + 10_000)]).toEqual([true, true, true, false]);
  });
});
