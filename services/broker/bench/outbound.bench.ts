// Outbound sends/s of the built service (dist/main.js) against a real nats-server and the devnet,
// for several BROKER_OUTBOUND_CONCURRENCY values: BENCH_N `send` actions over BENCH_CONVERSATIONS
// conversations are published to SB_OUTBOUND at once, and the time until the broker's
// sb_broker_outbound_total{action="send",result="sent"} reaches BENCH_N is measured. Each
// concurrency runs BENCH_ROUNDS times, interleaved, best kept; the first value listed (the
// previous default, 4) is the baseline of the ratio.
// Run: pnpm --filter @session-bot/broker bench:outbound (after build)
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { jetstream } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { startDevnet } from "@session-bot/devnet";
import { startNats } from "@session-bot/nats-testing";
import { PROTOCOL_VERSION, encodeOutboundAction, outboundSubject, type OutboundAction } from "@session-bot/protocol";
import { Identity } from "@session-bot/session";
import { tempDir } from "../test/helpers.js";

const MAIN = process.env.BENCH_MAIN ?? fileURLToPath(new URL("../dist/main.js", import.meta.url));
const N = Number(process.env.BENCH_N ?? 200);
const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const LEVELS = (process.env.BENCH_CONCURRENCY ?? "4,16").split(",").map(Number);
const BOT = "outbench";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const [nats, net] = await Promise.all([startNats({ kind: "binary" }), startDevnet({ http: true, snodeCount: 6, swarmCount: 2 })]);
const nc = await connect({ servers: nats.url, noAsyncTraces: true });
const js = jetstream(nc);
const mnemonic = (await Identity.generate()).mnemonic();
const peers = await Promise.all(Array.from({ length: CONVERSATIONS }, async () => (await Identity.generate()).sessionId));
let port = 19_900 + Math.floor(Math.random() * 50);

async function sentCount(p: number): Promise<number> {
  const text = await fetch(`http://127.0.0.1:${p}/metrics`).then((r) => r.text(), () => "");
  const m = /^sb_broker_outbound_total\{[^}]*action="send"[^}]*result="sent"[^}]*\} (\S+)/m.exec(text);
  return m ? Number(m[1]) : 0;
}

async function run(concurrency: number): Promise<number> {
  const dir = tempDir("sb-broker-outbound-");
  const p = ++port;
  const child = spawn(process.execPath, [MAIN], {
    env: { PATH: process.env.PATH ?? "", SB_BOT: BOT, LOG_LEVEL: "warn", SESSION_NETWORK: "devnet", SESSION_SEED_URLS: net.seedUrls.join(","), SESSION_FILE_SERVER_URL: net.fileServerUrl, SESSION_MNEMONIC: mnemonic, BROKER_DATA_DIR: dir, NATS_URL: nats.url, BROKER_HTTP_PORT: String(p), BROKER_OUTBOUND_CONCURRENCY: String(concurrency) },
    stdio: ["ignore", "ignore", "inherit"],
  });
  try {
    while (!(await fetch(`http://127.0.0.1:${p}/readyz`).then((r) => r.ok, () => false))) {
      if (child.exitCode !== null) throw new Error(`broker exited with ${child.exitCode}`);
      await sleep(20);
    }
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: N }, (_, i) => {
        const a = { v: PROTOCOL_VERSION, id: randomUUID(), bot: BOT, action: "send", conversation: peers[i % CONVERSATIONS]!, text: `reply ${i}` } as OutboundAction;
        return js.publish(outboundSubject(BOT, "send"), encodeOutboundAction(a), { msgID: a.id });
      }),
    );
    while ((await sentCount(p)) < N) {
      if (performance.now() - t0 > 120_000) throw new Error("not all sent in 120 s");
      await sleep(20);
    }
    return (N / (performance.now() - t0)) * 1000;
  } finally {
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    await exited;
    // The next run starts on an empty stream: the consumer of this run is gone with its bot's data dir.
    await (await import("@nats-io/jetstream")).jetstreamManager(nc).then((jsm) => jsm.streams.purge("SB_OUTBOUND"));
    rmSync(dir, { recursive: true, force: true });
  }
}

try {
  const best = new Map<number, number>();
  for (let r = 0; r < ROUNDS; r++) for (const c of LEVELS) best.set(c, Math.max(best.get(c) ?? 0, await run(c)));
  console.log(`outbound sends, ${N} actions over ${CONVERSATIONS} conversations, best of ${ROUNDS}`);
  const base = best.get(LEVELS[0]!)!;
  for (const c of LEVELS) console.log(`  BROKER_OUTBOUND_CONCURRENCY=${c}: ${best.get(c)!.toFixed(0)} sends/s (${(best.get(c)! / base).toFixed(2)}x)`);
} finally {
  await nc.close();
  await net.stop();
  await nats.stop();
}
