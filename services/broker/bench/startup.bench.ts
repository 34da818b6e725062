// Start-up cost of the built service (dist/main.js): time from spawn to GET /readyz = 200 and the
// process's RSS once ready, on an empty database and with BENCH_CONVERSATIONS conversations seeded
// (one inbound message each, the rows the broker writes for a peer's first message). Against a
// real nats-server and the devnet. Baseline of the same run: a bare `node -e` process's RSS and
// its time to exit. Run: pnpm --filter @session-bot/broker bench:startup (after build).
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { startDevnet } from "@session-bot/devnet";
import { startNats } from "@session-bot/nats-testing";
import { Identity } from "@session-bot/session";
import { tempDir } from "../test/helpers.js";

const MAIN = process.env.BENCH_MAIN ?? fileURLToPath(new URL("../dist/main.js", import.meta.url));
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

function rssMb(pid: number, field = "VmRSS"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const [nats, net] = await Promise.all([startNats({ kind: "binary" }), startDevnet({ http: true, snodeCount: 3, swarmCount: 1 })]);
const dir = tempDir("sb-broker-startup-");
const mnemonic = (await Identity.generate()).mnemonic();
let port = 19_400 + Math.floor(Math.random() * 500);

async function startOnce(): Promise<{ readyMs: number; rss: number }> {
  port++;
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      SB_BOT: "benchbot",
      LOG_LEVEL: "warn",
      SESSION_NETWORK: "devnet",
      SESSION_SEED_URLS: net.seedUrls.join(","),
      SESSION_FILE_SERVER_URL: net.fileServerUrl,
      SESSION_MNEMONIC: mnemonic,
      BROKER_DATA_DIR: dir,
      NATS_URL: nats.url,
      BROKER_HTTP_PORT: String(port),
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`broker exited with ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false);
      if (ok) break;
      if (performance.now() - t0 > 30_000) throw new Error("broker not ready in 30 s");
      await sleep(10);
    }
    const readyMs = performance.now() - t0;
    await sleep(500);
    return { readyMs, rss: rssMb(child.pid!) };
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
  }
}

function seed(): void {
  const db = new Database(join(dir, "broker.sqlite"));
  const now = Date.now();
  const conv = db.prepare("INSERT INTO conversations (session_id, display_name, approved, approved_me, first_seen_at, last_message_at, inbound_count, outbound_count) VALUES (?, ?, 1, 1, ?, ?, 1, 0)");
  const msg = db.prepare("INSERT INTO messages (conversation_id, direction, ref, kind, body, status, sent_at, created_at, updated_at) VALUES (?, 'in', ?, 'message', ?, 'published', ?, ?, ?)");
  db.transaction(() => {
    for (let i = 0; i < CONVERSATIONS; i++) {
      const id = `05ee${i.toString(16).padStart(62, "0")}`;
      const t = now - (CONVERSATIONS - i) * 1000;
      conv.run(id, `peer ${i}`, t, t);
      msg.run(id, `seed-${i}`, `hello from peer ${i}`, t, t, t);
    }
  })();
  db.close();
}

try {
  // Baseline: a bare Node.js process (RSS while idle, time to start and exit).
  const bareStart: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    spawnSync(process.execPath, ["-e", ""]);
    bareStart.push(performance.now() - t);
  }
  const idle = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" });
  await sleep(500);
  const bareRss = rssMb(idle.pid!);
  idle.kill("SIGTERM");

  const empty: { readyMs: number; rss: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    if (r > 0) for (const f of ["broker.sqlite", "broker.sqlite-wal", "broker.sqlite-shm"]) rmSync(join(dir, f), { force: true });
    empty.push(await startOnce());
  }
  seed();
  const seeded: { readyMs: number; rss: number }[] = [];
  for (let r = 0; r < ROUNDS; r++) seeded.push(await startOnce());

  const fmt = (xs: { readyMs: number; rss: number }[]) =>
    `ready ${median(xs.map((x) => x.readyMs)).toFixed(0)} ms (runs: ${xs.map((x) => x.readyMs.toFixed(0)).join(", ")}), RSS ${median(xs.map((x) => x.rss)).toFixed(1)} MB (runs: ${xs.map((x) => x.rss.toFixed(1)).join(", ")})`;
  console.log(`broker start-up (dist/main.js), median of ${ROUNDS}`);
  console.log(`  baseline bare node: start+exit ${median(bareStart).toFixed(0)} ms, idle RSS ${bareRss.toFixed(1)} MB`);
  console.log(`  empty database:            ${fmt(empty)}`);
  console.log(`  ${CONVERSATIONS} conversations: ${fmt(seeded)}`);
  console.log(`  ratio ready/bare start (empty): ${(median(empty.map((x) => x.readyMs)) / median(bareStart)).toFixed(1)}x; RSS/bare RSS: ${(median(empty.map((x) => x.rss)) / bareRss).toFixed(1)}x`);
} finally {
  await net.stop();
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
}
