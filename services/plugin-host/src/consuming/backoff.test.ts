import { describe, expect, it } from "vitest";
import { backoffFor } from "./inbound-consumer.js";

describe("backoffFor", () => {
  it("uses the n-th delay and repeats the last one", () => {
    const b = [100, 1_000, 5_000];
    expect([1, 2, 3, 4, 10].map((n) => backoffFor(b, n))).toEqual([100, 1_000, 5_000, 5_000, 5_000]);
    expect(backoffFor(b, 0)).toBe(100);
    expect(backoffFor([], 3)).toBe(0);
  });
});
