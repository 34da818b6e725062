/**
 * A synchronous call that never returns cannot be interrupted from its own thread, and vitest's
 * test timeout cannot stop it either: the run would hang until CI kills it. This watchdog runs in
 * a worker thread. The fuzzed thread arms it around each synchronous call ({@link watch}); if one
 * call stays armed for `stallMs`, the worker writes what was running and the fast-check seed to
 * stderr (synchronously, fd 2) and kills the process, so the run fails at once and says how to
 * replay the case (`SB_FUZZ_SEED=<seed>`).
 */
import { Worker } from "node:worker_threads";

/** How long one synchronous call may run before it is a hang (far above any sane parse). */
export const STALL_MS = 30_000;

const LABEL_BYTES = 256;
// [0] armed (0/1), [1] generation (bumped on every arm), [2] label length
const state = new Int32Array(new SharedArrayBuffer(3 * 4));
const label = new Uint8Array(new SharedArrayBuffer(LABEL_BYTES));
const seed = new Float64Array(new SharedArrayBuffer(8));
let worker: Worker | undefined;
let online: Promise<void> | undefined;

// Neither require nor import: an eval worker is compiled as CommonJS or as ESM depending on how
// the process was started (--input-type), so the builtins come from process.getBuiltinModule.
const WORKER_SOURCE = `
const { workerData } = process.getBuiltinModule("node:worker_threads");
const fs = process.getBuiltinModule("node:fs");
const { state, label, seed, stallMs } = workerData;
let seenGeneration = -1;
let since = Date.now();
setInterval(() => {
  const generation = Atomics.load(state, 1);
  if (Atomics.load(state, 0) === 0 || generation !== seenGeneration) {
    seenGeneration = generation;
    since = Date.now();
    return;
  }
  if (Date.now() - since < stallMs) return;
  const what = Buffer.from(label.subarray(0, Atomics.load(state, 2))).toString("utf8");
  fs.writeSync(2, "\\n[fuzz watchdog] HANG: " + what + " has run for over " + stallMs + " ms in one case; killing the test process. " +
    "Replay: SB_FUZZ_SEED=" + seed[0] + " (same SB_FUZZ_RUNS), then shrink the case.\\n");
  process.kill(process.pid, "SIGKILL");
}, 250);
`;

function ensureWorker(stallMs: number): Promise<void> {
  if (worker !== undefined && online !== undefined) return online;
  const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { state, label, seed, stallMs } });
  worker = w;
  // Referenced until it runs (so awaiting it keeps the process alive), then never keeps it alive.
  online = new Promise<void>((resolve, reject) => {
    w.once("online", () => {
      w.unref();
      resolve();
    });
    w.once("error", (err: unknown) => {
      w.unref();
      process.stderr.write(`[fuzz watchdog] could not start: ${String(err)}\n`);
      reject(err instanceof Error ? err : new Error(String(err)));
    });
  });
  return online;
}

/**
 * Starts the watchdog and resolves once its thread runs. A worker needs the event loop of this
 * thread to start, so call this (e.g. in `beforeAll`) before a synchronous case can spin:
 * until then `watch` is unprotected.
 */
export function startWatchdog(stallMs = STALL_MS): Promise<void> {
  return ensureWorker(stallMs);
}

/** Records the seed of the property about to run (printed when it hangs). */
export function setWatchdogSeed(value: number): void {
  seed[0] = value;
}

/** Runs `fn` with the watchdog armed under `what`. */
export function watch<T>(what: string, fn: () => T, stallMs = STALL_MS): T {
  void ensureWorker(stallMs);
  const bytes = new TextEncoder().encode(what).subarray(0, LABEL_BYTES);
  label.set(bytes);
  Atomics.store(state, 2, bytes.length);
  Atomics.add(state, 1, 1);
  Atomics.store(state, 0, 1);
  try {
    return fn();
  } finally {
    Atomics.store(state, 0, 0);
  }
}

/** Stops the watchdog worker (tests of the watchdog itself). */
export async function stopWatchdog(): Promise<void> {
  const w = worker;
  worker = undefined;
  online = undefined;
  if (w !== undefined) await w.terminate();
}
