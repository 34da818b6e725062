import { describe, expect, it } from "vitest";
import { NetworkClock } from "./clock.js";

describe("NetworkClock", () => {
  it("starts at offset 0 and follows the median of server times", () => {
    let local = 1_800_000_000_000;
    const clock = new NetworkClock({ localNow: () => local });
    expect(clock.now()).toBe(local);
    clock.observe(local - 1000);
    clock.observe(local - 1200);
    clock.observe(local + 999_999); // one wrong snode does not move the median much
    expect(clock.offset).toBe(1000);
    local += 10;
    expect(clock.now()).toBe(local - 1000);
  });
  it("ignores bogus times", () => {
    const clock = new NetworkClock({ localNow: () => 1_800_000_000_000 });
    clock.observe(5);
    clock.observe("x");
    clock.observe(Number.NaN);
    expect(clock.offset).toBe(0);
  });
  it("keeps a per-snode offset after a 406 until that snode agrees again", () => {
    const local = 1_800_000_000_000;
    const clock = new NetworkClock({ localNow: () => local });
    clock.observe(local, "a");
    clock.setSnodeOffset("b", local + 300_000);
    expect(clock.now("b")).toBe(local + 300_000);
    expect(clock.now("a")).toBe(local);
    clock.observe(local + 300_000, "b"); // still skewed: override kept, network offset unchanged
    expect(clock.offset).toBe(0);
    expect(clock.now("b")).toBe(local + 300_000);
    clock.observe(local + 100, "b"); // agrees again
    expect(clock.now("b")).toBe(clock.now());
  });
});
