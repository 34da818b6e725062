// The hang watchdog itself: a synchronous call that never returns ends the process with the
// label and the seed on stderr, instead of hanging the run.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fuzzParams, watch } from "../src/index.js";

const dist = fileURLToPath(new URL("../dist/index.js", import.meta.url));

describe("hang watchdog", () => {
  it("kills a process stuck in one synchronous call and prints what and the seed", () => {
    const script = `
      import { fuzzParams, startWatchdog, watch } from ${JSON.stringify(dist)};
      fuzzParams(1, { SB_FUZZ_SEED: "424242" });
      await startWatchdog(1000);
      watch("decodeSomething", () => { for (;;) {} }, 1000);
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    expect(r.signal).toBe("SIGKILL");
    expect(r.stderr).toContain("[fuzz watchdog] HANG: decodeSomething");
    expect(r.stderr).toContain("SB_FUZZ_SEED=424242");
  });

  it("stays quiet for calls that return, and lets the process exit", () => {
    const script = `
      import { watch } from ${JSON.stringify(dist)};
      let n = 0;
      for (let i = 0; i < 1000; i++) n += watch("quick", () => i);
      console.log(n);
    `;
    const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe("499500");
    expect(r.stderr).not.toContain("HANG");
  });

  it("fuzzParams always fixes a seed (SB_FUZZ_SEED or a fresh one) and scales numRuns by SB_FUZZ_RUNS", () => {
    expect(fuzzParams(100, { SB_FUZZ_SEED: "7", SB_FUZZ_RUNS: "2.5" })).toEqual({ numRuns: 250, seed: 7 });
    expect(Number.isInteger(fuzzParams(100, {}).seed)).toBe(true);
    expect(fuzzParams(100, {}).numRuns).toBe(100);
    expect(() => fuzzParams(1, { SB_FUZZ_RUNS: "-1" })).toThrow(/SB_FUZZ_RUNS/);
    expect(watch("x", () => 3)).toBe(3);
  });
});
