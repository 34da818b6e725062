// Inbound end to end through the built service (dist/main.js): BENCH_IDENTITIES Session clients
// each send BENCH_PER_IDENTITY messages to the bot through the devnet, and the time from the
// first send until every message is on SB_INBOUND is measured, with the broker's RSS afterwards
// and its peak (VmHWM). The broker starts on a database seeded with BENCH_CONVERSATIONS
// conversations (as bench:startup seeds them) and polls every BENCH_POLL_MS. Baseline of the same
// run: the identities' own send rate (how fast the swarm stored the messages). BENCH_BACKLOG=1:
// the messages are all stored first and the broker is started on the backlog, so the rate is the
// broker's own (from its start until every message is on the stream, start-up included).
// Run: pnpm --filter @session-bot/broker bench:loop (after build)
import { spawn } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import Database from "better-sqlite3";
import { startDevnet } from "@session-bot/devnet";
import { startNats } from "@session-bot/nats-testing";
import { INBOUND_STREAM } from "@session-bot/protocol";
import { Identity, MemoryStorage, SessionClient } from "@session-bot/session";
import { devnetNetwork, tempDir } from "../test/helpers.js";

const MAIN = process.env.BENCH_MAIN ?? fileURLToPath(new URL("../dist/main.js", import.meta.url));
const IDENTITIES = Number(process.env.BENCH_IDENTITIES ?? 5);
const PER_IDENTITY = Number(process.env.BENCH_PER_IDENTITY ?? 40);
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 10_000);
const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 250);
const BACKLOG = process.env.BENCH_BACKLOG === "1";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const rssMb = (pid: number, field = "VmRSS") => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? Number.NaN) / 1024;

const [nats, net] = await Promise.all([startNats({ kind: "binary" }), startDevnet({ http: true, snodeCount: 6, swarmCount: 2 })]);
const dir = tempDir("sb-broker-loop-");
const nc = await connect({ servers: nats.url, noAsyncTraces: true });
const botIdentity = await Identity.generate();
const port = 19_960 + Math.floor(Math.random() * 30);
const env = { PATH: process.env.PATH ?? "", SB_BOT: "loopbot", LOG_LEVEL: "warn", SESSION_NETWORK: "devnet", SESSION_SEED_URLS: net.seedUrls.join(","), SESSION_FILE_SERVER_URL: net.fileServerUrl, SESSION_MNEMONIC: botIdentity.mnemonic(), BROKER_DATA_DIR: dir, NATS_URL: nats.url, BROKER_HTTP_PORT: String(port), BROKER_POLL_INTERVAL_MS: String(POLL_MS), BROKER_RATE_PER_MINUTE: "100000", BROKER_RATE_BURST: "10000" };

async function startBroker() {
  const child = spawn(process.execPath, [MAIN], { env, stdio: ["ignore", "ignore", "inherit"] });
  while (!(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null) throw new Error(`broker exited with ${child.exitCode}`);
    await sleep(20);
  }
  return child;
}
async function stopBroker(child: ReturnType<typeof spawn>) {
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

const clients: { client: SessionClient; close: () => Promise<void> }[] = [];
try {
  // First start creates the schema; then seed the conversations and start again.
  await stopBroker(await startBroker());
  const db = new Database(join(dir, "broker.sqlite"));
  const conv = db.prepare("INSERT INTO conversations (session_id, display_name, approved, approved_me, first_seen_at, last_message_at, inbound_count, outbound_count) VALUES (?, ?, 1, 1, ?, ?, 1, 0)");
  const msg = db.prepare("INSERT INTO messages (conversation_id, direction, ref, kind, body, status, sent_at, created_at, updated_at) VALUES (?, 'in', ?, 'message', ?, 'published', ?, ?, ?)");
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < CONVERSATIONS; i++) {
      const id = `05ee${i.toString(16).padStart(62, "0")}`;
      conv.run(id, `peer ${i}`, now, now);
      msg.run(id, `seed-${i}`, `hello from peer ${i}`, now, now, now);
    }
  })();
  db.close();
  for (let i = 0; i < IDENTITIES; i++) {
    const storage = new MemoryStorage();
    const network = devnetNetwork(net, storage);
    clients.push({ client: await SessionClient.create({ identity: await Identity.generate(), network, storage }), close: () => network.close() });
  }
  const jsm = await jetstreamManager(nc);
  const before = (await jsm.streams.info(INBOUND_STREAM)).state.messages;
  const total = IDENTITIES * PER_IDENTITY;
  const send = () =>
    Promise.all(clients.map(async ({ client }, ci) => {
      for (let n = 0; n < PER_IDENTITY; n++) await client.sendText(botIdentity.sessionId, `/echo id${ci}-${n}`);
    }));
  let sendMs = 0;
  if (BACKLOG) {
    const ts = performance.now();
    await send();
    sendMs = performance.now() - ts;
  }
  const tb = performance.now();
  const broker = await startBroker();
  const rssReady = rssMb(broker.pid!);
  const t0 = BACKLOG ? tb : performance.now();
  const sending = BACKLOG ? Promise.resolve() : send().then(() => (sendMs = performance.now() - t0));
  for (;;) {
    const onStream = (await jsm.streams.info(INBOUND_STREAM)).state.messages - before;
    if (onStream >= total) break;
    if (performance.now() - t0 > 120_000) throw new Error(`only ${onStream} of ${total} on the stream after 120 s`);
    await sleep(10);
  }
  const allMs = performance.now() - t0;
  await sending;
  const rssAfter = rssMb(broker.pid!);
  const peak = rssMb(broker.pid!, "VmHWM");
  await stopBroker(broker);
  console.log(`inbound end to end${BACKLOG ? " (backlog)" : ""}, ${IDENTITIES} identities × ${PER_IDENTITY} messages, ${CONVERSATIONS} conversations seeded, poll ${POLL_MS} ms`);
  console.log(`  baseline (identities storing): ${((total / sendMs) * 1000).toFixed(0)} msg/s`);
  console.log(`  broker (all on SB_INBOUND):    ${((total / allMs) * 1000).toFixed(0)} msg/s, ${allMs.toFixed(0)} ms${BACKLOG ? " from spawn" : ""}`);
  console.log(`  ratio broker/baseline: ${(sendMs / allMs).toFixed(2)}x`);
  console.log(`  broker RSS: ready ${rssReady.toFixed(1)} MB, after ${rssAfter.toFixed(1)} MB, peak (VmHWM) ${peak.toFixed(1)} MB`);
} finally {
  for (const c of clients) await c.close();
  await nc.close();
  await net.stop();
  await nats.stop();
  rmSync(dir, { recursive: true, force: true });
}
