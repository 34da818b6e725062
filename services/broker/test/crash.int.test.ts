// The built service (dist/main.js) as a child process: SIGKILL between the inbound publish and the
// cursor commit, then a restart, neither loses nor duplicates; SIGTERM shuts down cleanly; logs
// never contain the mnemonic.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startDevnet, type Devnet } from "@session-bot/devnet";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import { brokerSubject } from "@session-bot/protocol";
import { Identity } from "@session-bot/session";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../src/db/database.js";
import { BrokerStore } from "../src/db/store.js";
import { eventually, inboundEvents, makePeer, tempDir } from "./helpers.js";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const BOT = "crashbot";

let nats: TestNats;
let net: Devnet;
let nc: NatsConnection;
let dir: string;
let mnemonic: string;
let sessionId: string;
const children: ChildProcess[] = [];
const output: string[] = [];

interface Running {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  log: () => string;
}

function startBroker(extra: Record<string, string>, dataDir = dir): Running {
  let log = "";
  const child = spawn(process.execPath, [MAIN], {
    env: {
      PATH: process.env.PATH ?? "",
      SB_BOT: BOT,
      SESSION_NETWORK: "devnet",
      SESSION_SEED_URLS: net.seedUrls.join(","),
      SESSION_FILE_SERVER_URL: net.fileServerUrl,
      BROKER_DATA_DIR: dataDir,
      NATS_URL: nats.url,
      BROKER_HTTP_PORT: "0",
      BROKER_POLL_INTERVAL_MS: "100",
      BROKER_SHUTDOWN_GRACE_MS: "8000",
      LOG_LEVEL: "debug",
      ...extra,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const collect = (b: Buffer) => {
    log += b.toString();
    output.push(b.toString());
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
  return { child, exited, log: () => log };
}

async function started(r: Running): Promise<void> {
  await eventually(() => (r.log().includes('"msg":"listening"') ? true : undefined), 30_000, `the broker to start; log so far:\n${r.log().slice(-2000)}`);
}

beforeAll(async () => {
  [nats, net] = await Promise.all([startNats({ kind: "binary" }), startDevnet({ http: true, snodeCount: 3, swarmCount: 1 })]);
  nc = await connect({ servers: nats.url });
  dir = tempDir();
  const identity = await Identity.generate();
  mnemonic = identity.mnemonic();
  sessionId = identity.sessionId;
}, 120_000);

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await nc?.close();
  await Promise.allSettled([nats?.stop(), net?.stop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the broker process", () => {
  it("killed between publish and cursor commit, then restarted, neither loses nor duplicates; SIGTERM mid-send finishes the send", async () => {
    const mnemonicFile = join(dir, "mnemonic");
    writeFileSync(mnemonicFile, mnemonic + "\n", { mode: 0o600 });
    const peer = await makePeer(net);
    try {
      const first = startBroker({ SESSION_MNEMONIC_FILE: mnemonicFile, BROKER_FAULT: "crash-after-publish" });
      await started(first);
      const one = await peer.client.sendText(sessionId, "one");
      const dead = await first.exited;
      expect(dead.signal, first.log().slice(-3000)).toBe("SIGKILL");
      expect(first.log()).toContain("fault hook crash-after-publish");

      // The event is on the stream, but the broker died before recording it as published.
      expect((await inboundEvents(nc, BOT)).filter((e) => e.event.id === one.hash)).toHaveLength(1);
      const db = openDatabase(join(dir, "broker.sqlite"));
      expect(new BrokerStore(db.db).dedupOutcome(one.hash)).toBeUndefined();
      db.close();

      const second = startBroker({ SESSION_MNEMONIC_FILE: mnemonicFile });
      await started(second);
      // The replayed message is published again and JetStream drops the repeat; the broker records it.
      await eventually(async () => {
        const m = await nc.request(brokerSubject(BOT, "messages"), new TextEncoder().encode(JSON.stringify({ v: 1, direction: "in" })), { timeout: 5000 });
        const items = (JSON.parse(new TextDecoder().decode(m.data)) as { items: { id: string; status: string }[] }).items;
        return items.find((i) => i.id === one.hash && i.status === "published");
      }, 30_000, "the replayed message recorded as published");
      const two = await peer.client.sendText(sessionId, "two");
      await eventually(async () => ((await inboundEvents(nc, BOT)).some((e) => e.event.id === two.hash) ? true : undefined), 30_000, "message two");
      await new Promise((r) => setTimeout(r, 500));
      const all = await inboundEvents(nc, BOT);
      expect(all.filter((e) => e.event.id === one.hash)).toHaveLength(1);
      expect(all.filter((e) => e.event.id === two.hash)).toHaveLength(1);
      expect(all.filter((e) => e.event.kind === "message")).toHaveLength(2);

      // SIGTERM while a send is in flight (the peer's swarm answers slowly): the send finishes,
      // is recorded and acked, then the process exits 0.
      for (const s of net.swarmFor(peer.client.sessionId).snodes) net.faults.inject(s.pubkeyEd25519, { kind: "latency", ms: 1500 });
      const actionId = `inflight-${Date.now()}`;
      const body = JSON.stringify({ v: 1, id: actionId, bot: BOT, action: "send", conversation: peer.client.sessionId, text: "finish me" });
      await nc.request(brokerSubject(BOT, "send"), new TextEncoder().encode(body), { timeout: 5000 });
      // Wait until the broker has taken the action (logged as queued), so the SIGTERM lands mid-send.
      await eventually(async () => {
        const m = await nc.request(brokerSubject(BOT, "messages"), new TextEncoder().encode(JSON.stringify({ v: 1, direction: "out" })), { timeout: 5000 });
        const items = (JSON.parse(new TextDecoder().decode(m.data)) as { items: { id: string; status: string }[] }).items;
        return items.find((i) => i.id === actionId && i.status === "queued");
      }, 10_000, "the action in flight");
      second.child.kill("SIGTERM");
      const stopped = await second.exited;
      net.faults.clear();
      expect(stopped, second.log().slice(-3000)).toEqual({ code: 0, signal: null });
      expect(second.log()).toContain('"msg":"stopped"');
      const after = openDatabase(join(dir, "broker.sqlite"));
      expect(new BrokerStore(after.db).getMessage("out", actionId)?.status).toBe("sent");
      after.close();
      await eventually(async () => {
        await peer.poll();
        return peer.received.some((e) => e.kind === "message" && e.text === "finish me") ? true : undefined;
      }, 20_000, "the in-flight message delivered");
    } finally {
      await peer.network.close();
    }
    const all = output.join("");
    // Not the phrase, nor any three consecutive words of it.
    const words = mnemonic.split(" ");
    for (let i = 0; i + 3 <= words.length; i++) expect(all).not.toContain(words.slice(i, i + 3).join(" "));
  }, 180_000);

  it("refuses to start without an identity, and creates a development identity only when told to", async () => {
    const devDir = tempDir();
    try {
      const refused = startBroker({}, devDir);
      const r = await refused.exited;
      expect(r.code, refused.log()).toBe(2);
      expect(refused.log()).toContain("SESSION_MNEMONIC");

      const dev = startBroker({ BROKER_DEV_IDENTITY: "1", BROKER_FAULT: "none" }, devDir);
      await started(dev);
      const file = join(devDir, "dev-identity.mnemonic");
      expect(existsSync(file)).toBe(true);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const words = readFileSync(file, "utf8").trim();
      expect(words.split(" ")).toHaveLength(13);
      expect(dev.log()).toContain("CREATED A NEW DEVELOPMENT IDENTITY");
      expect(dev.log()).not.toContain(words);
      dev.child.kill("SIGTERM");
      const end = await dev.exited;
      expect(end, dev.log().slice(-3000)).toEqual({ code: 0, signal: null });
    } finally {
      rmSync(devDir, { recursive: true, force: true });
    }
  }, 120_000);
});
