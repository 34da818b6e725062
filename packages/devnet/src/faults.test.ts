import { describe, expect, it } from "vitest";
import { Faults } from "./faults.js";
import { isDevnetError } from "./errors.js";

const make = (): Faults => new Faults((t) => (t === 0 || t === "a" ? "a" : t === "seed" ? "seed" : undefined));

describe("Faults", () => {
  it("421-once fires once by default, and only through takeMisdirect", () => {
    const f = make();
    f.inject(0, { kind: "421-once" });
    f.take("a");
    expect(f.takeMisdirect("a")).toBe(true);
    expect(f.takeMisdirect("a")).toBe(false);
    f.inject(0, { kind: "421-once", count: 2 });
    expect([f.takeMisdirect("a"), f.takeMisdirect("a"), f.takeMisdirect("a")]).toEqual([true, true, false]);
  });

  it("500 lasts `count` requests, unlimited without count", () => {
    const f = make();
    f.inject(0, { kind: "500", count: 2 });
    expect([f.take("a").status, f.take("a").status, f.take("a").status]).toEqual([500, 500, undefined]);
    f.inject("a", { kind: "429" });
    for (let i = 0; i < 5; i++) expect(f.take("a").status).toBe(429);
    f.clear();
    expect(f.take("a").status).toBeUndefined();
  });

  it("adds latency, drops, and keeps one clock offset", () => {
    const f = make();
    f.inject(0, { kind: "latency", ms: 30 });
    f.inject(0, { kind: "latency", ms: 20, count: 1 });
    f.inject(0, { kind: "clock-offset", ms: 5_000 });
    f.inject(0, { kind: "clock-offset", ms: -7_000 });
    const p = f.take("a");
    expect(p.delayMs).toBe(50);
    expect(p.clockOffsetMs).toBe(-7_000);
    expect(f.take("a").delayMs).toBe(30);
    expect(f.clockOffset("a")).toBe(-7_000);
    f.inject("seed", { kind: "drop", count: 1 });
    expect(f.take("seed").drop).toBe(true);
    expect(f.take("seed").drop).toBe(false);
  });

  it("lists faults and clears one target", () => {
    const f = make();
    f.inject(0, { kind: "500", count: 3 });
    f.inject("seed", { kind: "latency", ms: 10 });
    expect(f.list()).toEqual([
      { target: "a", kind: "500", remaining: 3 },
      { target: "seed", kind: "latency", ms: 10 },
    ]);
    f.clear("seed");
    expect(f.list()).toHaveLength(1);
  });

  it("rejects unknown targets and malformed faults with typed errors", () => {
    const f = make();
    expect(() => f.inject(5, { kind: "500" })).toThrow(expect.objectContaining({ code: "DEVNET_UNKNOWN_TARGET" }));
    const bad = [{ kind: "nope" }, { kind: "latency" }, { kind: "500", count: 0 }, { kind: "latency", ms: -1 }];
    for (const fault of bad) {
      try {
        f.inject(0, fault as never);
        expect.unreachable();
      } catch (err) {
        expect(isDevnetError(err, "DEVNET_BAD_FAULT")).toBe(true);
      }
    }
  });
});
