// Throughput of @session-bot/chunker, each figure beside a baseline measured in the same run:
//  - in process: split+encode and decode+reassemble of 1, 8, 32 MiB vs SHA-256 of the same bytes
//    (target ≥ 0.5×);
//  - over NATS: an 8 MiB publishChunked → subscribeChunked transfer vs raw core-NATS publish of
//    64 KiB messages (target ≥ 0.5×), the receiver in a worker thread.
// Prints a table and writes bench/last-run.json. Not a test: nothing here fails on a slow machine.
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { once as onceEvent } from "node:events";
import { dirname, join } from "node:path";
import { Worker } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { connect } from "@nats-io/transport-node";
import { startNats } from "@session-bot/nats-testing";
import { decodeFragment, encodeFragment, Reassembler, split } from "../src/index.js";
import { HEADER_ROOM, publishChunked } from "../src/nats.js";

const KiB = 1024;
const MiB = 1024 * KiB;
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);

// Best of N: on a machine shared with other work, the least-disturbed run is the steadiest figure.
const best = (xs: number[]): number => Math.min(...xs);

interface Timing {
  /** best wall-clock ms */
  wall: number;
  /** best CPU ms of this process (user + system) */
  cpu: number;
}

async function once(fn: () => unknown, wall: number[], cpu: number[]): Promise<void> {
  const c0 = process.cpuUsage();
  const t = performance.now();
  await fn();
  wall.push(performance.now() - t);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
}

/**
 * Best of `runs` calls of `base` and of `fn`, interleaved (base, fn, base, fn, ...) so a
 * machine shared with other work slows both alike, after `warm` warm-up calls of each.
 */
async function timePair(base: () => unknown, fn: () => unknown, runs: number, warm = 2): Promise<[Timing, Timing]> {
  for (let i = 0; i < warm; i++) {
    await base();
    await fn();
  }
  const bw: number[] = [];
  const bc: number[] = [];
  const fw: number[] = [];
  const fc: number[] = [];
  for (let i = 0; i < runs; i++) {
    await once(base, bw, bc);
    await once(fn, fw, fc);
  }
  return [
    { wall: best(bw), cpu: best(bc) },
    { wall: best(fw), cpu: best(fc) },
  ];
}

interface Row {
  name: string;
  bytes: number;
  /** throughput by wall-clock time */
  mbps: number;
  baseline: string;
  baselineMbps: number;
  ratio: number;
  /** throughput by CPU time of this process (steadier on a machine shared with other work) */
  cpuMbps: number;
  baselineCpuMbps: number;
  cpuRatio: number;
  target: number;
}
const rows: Row[] = [];
const row = (name: string, bytes: number, t: Timing, baseline: string, base: Timing): void => {
  const r: Row = {
    name,
    bytes,
    mbps: mbps(bytes, t.wall),
    baseline,
    baselineMbps: mbps(bytes, base.wall),
    ratio: 0,
    cpuMbps: mbps(bytes, t.cpu),
    baselineCpuMbps: mbps(bytes, base.cpu),
    cpuRatio: 0,
    target: 0.5,
  };
  r.ratio = r.mbps / r.baselineMbps;
  r.cpuRatio = r.cpuMbps / r.baselineCpuMbps;
  rows.push(r);
};

// --- in process ---------------------------------------------------------------------------------
const decodeAll = (frames: Uint8Array[], size: number): void => {
  const r = new Reassembler({ maxPayloadBytes: 64 * MiB, maxFragments: 1 << 20, maxPending: 1, timeoutMs: 60_000 });
  let out: Uint8Array | undefined;
  for (const f of frames) out = r.push(decodeFragment(f)) ?? out;
  if (out?.length !== size) throw new Error("reassembly failed");
};
{
  // Warm-up of every code path (JIT, GC heuristics) before anything is timed.
  const p = randomBytes(8 * MiB);
  for (let i = 0; i < 10; i++) {
    createHash("sha256").update(p).digest();
    decodeAll(split(p, { maxFragmentBytes: 64 * KiB }).map(encodeFragment), p.length);
  }
}
for (const size of [1 * MiB, 8 * MiB, 32 * MiB]) {
  const payload = randomBytes(size);
  const runs = size >= 32 * MiB ? 9 : size >= 8 * MiB ? 15 : 31;
  const sha = (): unknown => createHash("sha256").update(payload).digest();
  for (const frame of [64 * KiB, 1 * MiB - HEADER_ROOM]) {
    const label = frame === 64 * KiB ? "64 KiB" : "1 MiB";
    const [shaEncMs, encMs] = await timePair(sha, () => split(payload, { maxFragmentBytes: frame }).map(encodeFragment), runs);
    const frames = split(payload, { maxFragmentBytes: frame }).map(encodeFragment);
    const [shaDecMs, decMs] = await timePair(sha, () => decodeAll(frames, size), runs);
    row(`split+encode ${size / MiB} MiB, ${label} frames`, size, encMs, "sha256", shaEncMs);
    row(`decode+reassemble ${size / MiB} MiB, ${label} frames`, size, decMs, "sha256", shaDecMs);
  }
}

// --- over NATS ----------------------------------------------------------------------------------
// The sender runs here, the receiver in a worker thread (bench/receiver.worker.ts), for the raw
// baseline and for the chunked transfer alike.
const nats = await startNats(process.env.SB_TEST_NATS === "container" ? { kind: "container" } : { kind: "binary" });
const tx = await connect({ servers: nats.url, name: "bench-tx" });
const size = 8 * MiB;
const msg = randomBytes(64 * KiB);
const rawCount = size / msg.length;
const worker = new Worker(new URL("./receiver.worker.ts", import.meta.url), { workerData: { url: nats.url, rawCount } });
try {
  await onceEvent(worker, "message");
  // raw: 8 MiB as 128 publishes of 64 KiB, timed until the receiver says it has the last one
  let done: (() => void) | undefined;
  tx.subscribe("bench.raw.done", { callback: () => done?.() });
  await tx.flush();
  const raw = (): Promise<void> =>
    new Promise<void>((resolve) => {
      done = resolve;
      for (let i = 0; i < rawCount; i++) tx.publish("bench.raw", msg);
    });
  const payload = randomBytes(size);
  for (const [label, frame] of [
    ["max_payload frames", undefined],
    ["64 KiB frames", 64 * KiB],
  ] as const) {
    const opts = frame === undefined ? {} : { maxFragmentBytes: frame };
    const [rawT, t] = await timePair(raw, () => publishChunked(tx, "bench.chunked", payload, opts), 15, 3);
    row(`NATS publishChunked 8 MiB, ${label}`, size, t, "raw publish 64 KiB", rawT);
  }
} finally {
  worker.postMessage("stop");
  await onceEvent(worker, "message");
  await worker.terminate();
  await tx.close();
  await nats.stop();
}

// --- report -------------------------------------------------------------------------------------
const pad = (s: string, n: number): string => s.padEnd(n);
const num = (x: number): string => x.toFixed(0).padStart(6);
const rat = (x: number): string => x.toFixed(2).padStart(5);
console.log(`load average before the report: ${loadavg().map((x) => x.toFixed(1)).join(" ")}; GLIBC_TUNABLES=${process.env.GLIBC_TUNABLES ?? ""}`);
console.log("wall = MB/s by wall-clock time; cpu = MB/s by this process's CPU time; ratio = ours / baseline; target ≥ 0.5");
console.log(`${pad("benchmark", 46)} ${"wall".padStart(6)} ${"cpu".padStart(6)}  ${pad("baseline", 18)} ${"wall".padStart(6)} ${"cpu".padStart(6)}  ${"ratio".padStart(5)} ${"cpu-r".padStart(5)}`);
for (const r of rows) {
  const ok = r.ratio >= r.target && r.cpuRatio >= r.target ? "ok" : r.ratio >= r.target || r.cpuRatio >= r.target ? "one" : "MISSED";
  console.log(
    `${pad(r.name, 46)} ${num(r.mbps)} ${num(r.cpuMbps)}  ${pad(r.baseline, 18)} ${num(r.baselineMbps)} ${num(r.baselineCpuMbps)}  ${rat(r.ratio)} ${rat(r.cpuRatio)} ${ok}`,
  );
}
const result = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  nats: process.env.SB_TEST_NATS === "container" ? "container nats:2.12" : "local nats-server binary",
  glibcTunables: process.env.GLIBC_TUNABLES ?? null,
  loadAverage: loadavg(),
  rows,
};
const out = join(dirname(fileURLToPath(import.meta.url)), "last-run.json");
writeFileSync(out, JSON.stringify(result, null, 2) + "\n");
console.log(`wrote ${out}`);
