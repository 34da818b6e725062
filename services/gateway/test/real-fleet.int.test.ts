/**
 * The gateway against the real services: a nats-server, the offline Session devnet, the broker
 * (`services/broker`, its built `dist/main.js` as a process, development identity) and one
 * plugin-host (`services/plugin-host`, with the echo and ping plugins). A Session peer on the
 * devnet talks to the bot while the admin API watches and steers: readiness, workers, plugins,
 * conversations, sending, and a plugin toggle that the real worker obeys.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FastifyInstance } from "fastify";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { startNats, type TestNats } from "@session-bot/nats-testing";
import { startDevnet, type Devnet } from "@session-bot/devnet";
import { Identity, MemoryStorage, SessionClient, StorageRpcNetwork } from "@session-bot/session";
import { auth, buildTestApp } from "./fixtures/app.js";

const BOT = "gwreal";
const mainOf = (pkg: string) => join(dirname(fileURLToPath(import.meta.resolve(pkg))), "main.js");
const BROKER_MAIN = mainOf("@session-bot/broker");
const HOST_MAIN = mainOf("@session-bot/plugin-host");

let nats: TestNats;
let net: Devnet;
let nc: NatsConnection;
let app: FastifyInstance;
let dataDir: string;
const children: { name: string; proc: ChildProcess; log: string }[] = [];
let peer: { client: SessionClient; texts: string[]; poll: () => Promise<void> };

function spawnService(name: string, main: string, env: Record<string, string>): void {
  const proc = spawn(process.execPath, [main], { env: { PATH: process.env.PATH ?? "", SB_BOT: BOT, NATS_URL: nats.url, SB_PARTITIONS: "4", LOG_LEVEL: "info", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  const child = { name, proc, log: "" };
  proc.stdout.on("data", (d: Buffer) => (child.log += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (child.log += d.toString()));
  children.push(child);
}

function logs(): string {
  return children.map((c) => `--- ${c.name} (exit ${c.proc.exitCode})\n${c.log.slice(-3000)}`).join("\n");
}

async function until<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${logs()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  // One after the other, so a failure leaves nothing running that afterAll cannot see.
  nats = await startNats();
  net = await startDevnet({ http: true, snodeCount: 3, swarmCount: 1 });
  dataDir = mkdtempSync(join(tmpdir(), "gw-real-"));
  const devnetEnv = { SESSION_NETWORK: "devnet", SESSION_SEED_URLS: net.seedUrls.join(","), SESSION_FILE_SERVER_URL: net.fileServerUrl };
  spawnService("broker", BROKER_MAIN, {
    ...devnetEnv,
    BROKER_DEV_IDENTITY: "1",
    BROKER_DATA_DIR: dataDir,
    BROKER_HTTP_PORT: "0",
    BROKER_POLL_INTERVAL_MS: "100",
    BROKER_DISPLAY_NAME: "Gateway E2E",
  });
  spawnService("plugin-host", HOST_MAIN, {
    PLUGIN_HOST_HTTP_PORT: "0",
    PLUGIN_HOST_INSTANCE: "gw-e2e-1",
    PLUGIN_HOST_PLUGINS: "@session-bot/plugin-echo,@session-bot/plugin-ping",
  });
  nc = await connect({ servers: nats.url });
  app = await buildTestApp({ nc }, { bot: BOT });

  const storage = new MemoryStorage();
  const network = new StorageRpcNetwork({ seedUrls: [...net.seedUrls], snodeScheme: "http", fileServerUrl: net.fileServerUrl, storage });
  const client = await SessionClient.create({ identity: await Identity.generate(), network, storage });
  const texts: string[] = [];
  peer = {
    client,
    texts,
    async poll() {
      const batch = await client.pollOnce();
      for (const item of batch.items) if (item.status === "event" && item.event.kind === "message") texts.push(item.event.text);
      await client.commit(batch);
    },
  };
}, 120_000);

afterAll(async () => {
  await app?.close();
  for (const c of children) {
    if (c.proc.exitCode === null) {
      const exited = new Promise((r) => c.proc.once("exit", r));
      c.proc.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (c.proc.exitCode === null) c.proc.kill("SIGKILL");
    }
  }
  await nc?.close();
  await net?.stop();
  await nats?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** Waits until the peer received a text matching `re`. */
async function received(re: RegExp, what: string): Promise<string> {
  return until(what, async () => {
    await peer.poll();
    return peer.texts.find((t) => re.test(t));
  });
}

describe("gateway with the real broker and plugin-host", () => {
  it("becomes ready once the broker answers and the plugin-host registered", async () => {
    const r = await until("/readyz 200", async () => {
      const res = await app.inject({ url: "/readyz" });
      return res.statusCode === 200 ? res : undefined;
    }, 60_000);
    expect(r.json()).toMatchObject({ status: "ready", checks: { broker: { ok: true }, pluginHosts: { ok: true, count: 1 } } });
  });

  it("shows the bot, the worker and the plugins from the real services", async () => {
    const bot = await app.inject({ url: "/admin/bot", headers: auth });
    expect(bot.statusCode, bot.body).toBe(200);
    expect(bot.json()).toMatchObject({ v: 1, bot: BOT, sessionId: expect.stringMatching(/^05[0-9a-f]{64}$/) });

    const workers = await app.inject({ url: "/admin/workers", headers: auth });
    expect(workers.statusCode, workers.body).toBe(200);
    expect(workers.json()).toMatchObject({ items: [{ bot: BOT, instance: "gw-e2e-1", plugins: ["echo", "ping"] }] });

    const plugins = await until("manifests of echo and ping", async () => {
      const res = await app.inject({ url: "/admin/plugins", headers: auth });
      const items = res.json<{ items: { name: string; workers: number; commands: { name: string }[] }[] }>().items;
      return items.length >= 2 ? items : undefined;
    });
    expect(plugins.map((p) => p.name)).toEqual(["echo", "ping"]);
    expect(plugins.find((p) => p.name === "ping")).toMatchObject({ workers: 1, commands: [{ name: "ping" }] });

    const streams = await app.inject({ url: "/admin/streams", headers: auth });
    expect(streams.json<{ items: { stream: string }[] }>().items.map((s) => s.stream)).toEqual(["SB_INBOUND", "SB_OUTBOUND", "SB_DEAD"]);
  });

  it("a peer's message shows up as a conversation with its log, and the worker's counters move", async () => {
    const botId = (await app.inject({ url: "/admin/bot", headers: auth })).json<{ sessionId: string }>().sessionId;
    await peer.client.sendText(botId, "/echo hello gateway");
    await received(/hello gateway/, "the echo reply");

    const conversations = await until("the conversation", async () => {
      const res = await app.inject({ url: "/admin/conversations", headers: auth });
      const items = res.json<{ items: { conversation: string }[] }>().items;
      return items.some((c) => c.conversation === peer.client.sessionId) ? items : undefined;
    });
    expect(conversations.length).toBe(1);
    const log = await until("in and out entries", async () => {
      const res = await app.inject({ url: `/admin/conversations/${peer.client.sessionId}/messages`, headers: auth });
      const items = res.json<{ items: { direction: string; status: string }[] }>().items;
      return items.some((m) => m.direction === "out" && m.status === "sent") && items.some((m) => m.direction === "in") ? items : undefined;
    });
    expect(log.length).toBeGreaterThanOrEqual(2);

    const metrics = (await app.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/^sb_workers 1$/m);
    expect(metrics).toMatch(/^sb_plugin_handled_total\{plugin="echo",instance="gw-e2e-1"\} [1-9]\d*$/m);
  });

  it("disabling a plugin through the API stops the real worker from running it; enabling brings it back", async () => {
    const botId = (await app.inject({ url: "/admin/bot", headers: auth })).json<{ sessionId: string }>().sessionId;
    const off = await app.inject({ method: "PATCH", url: "/admin/plugins/echo", headers: auth, payload: { enabled: false } });
    expect(off.statusCode, off.body).toBe(200);
    // The worker applies the record on its next event; give its KV watch a moment.
    await new Promise((r) => setTimeout(r, 500));
    await peer.client.sendText(botId, "/echo while disabled");
    const answer = await received(/Unknown command \/echo/, "the router's unknown-command reply");
    expect(answer).not.toContain("while disabled");

    const on = await app.inject({ method: "PATCH", url: "/admin/plugins/echo", headers: auth, payload: { enabled: true } });
    expect(on.statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 500));
    await peer.client.sendText(botId, "/echo back again");
    await received(/^back again$/, "the echo reply after re-enabling");
  });

  it("POST /admin/messages reaches the peer through the broker", async () => {
    const r = await app.inject({ method: "POST", url: "/admin/messages", headers: auth, payload: { conversation: peer.client.sessionId, text: "a note from the operator" } });
    expect(r.statusCode, r.body).toBe(202);
    await received(/^a note from the operator$/, "the operator's text");
  });
});
