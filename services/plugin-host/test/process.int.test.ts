/**
 * plugin-host as a process (dist/main.js, test plugins from a directory): a worker killed with
 * SIGKILL mid-handler, graceful SIGTERM, and refusal of bad plugins.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm } from "@nats-io/kv";
import { INBOUND_STREAM, pluginHostConsumer } from "@session-bot/protocol";
import { BOT, MAIN_JS, message, peer, publishEvent, sends, startBus, startWorker, testEnv, waitFor, type Bus, type Worker } from "./helpers.js";

let bus: Bus;
const children: ChildProcess[] = [];
const workers: Worker[] = [];
const PARTITIONS = 8;
// Handlers here sleep for seconds: a longer timeout and ack_wait than the other suites.
const SLOW = { PLUGIN_HOST_PLUGINS: "", PLUGIN_HOST_HANDLER_TIMEOUT_MS: "3000", PLUGIN_HOST_ACK_WAIT_MS: "4000" };

beforeAll(async () => {
  bus = await startBus();
});

afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await Promise.all(workers.map((w) => w.stop()));
  await bus?.close();
});

interface Child {
  proc: ChildProcess;
  stdout: string[];
  stderr: string;
  exited: Promise<number | null>;
}

function spawnHost(instance: string, extra: Record<string, string> = {}): Child {
  const env = { ...process.env, ...testEnv(bus, { LOG_LEVEL: "info", ...SLOW, PLUGIN_HOST_INSTANCE: instance, ...extra }) };
  const proc = spawn(process.execPath, [MAIN_JS], { env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(proc);
  const child: Child = { proc, stdout: [], stderr: "", exited: new Promise((r) => proc.once("exit", (code) => r(code))) };
  let buf = "";
  proc.stdout.on("data", (d: Buffer) => {
    buf += d.toString();
    const lines = buf.split("\n");
    buf = lines.pop()!;
    child.stdout.push(...lines);
  });
  proc.stderr.on("data", (d: Buffer) => (child.stderr += d.toString()));
  return child;
}

const running = (c: Child) => waitFor(() => c.stdout.some((l) => l.includes('"plugin-host running"')), 20_000, "child running");
const started = async (tag: string, instance: string) => {
  const kv = await new Kvm(bus.nc).open("sb_state_probe");
  return waitFor(async () => (await kv.get(`started.${tag}.${instance}`))?.operation === "PUT", 20_000, `${tag} started on ${instance}`);
};
const replies = async (conversation: string) => (await sends(bus)).filter((s) => s.conversation === conversation);

describe("plugin-host process", () => {
  it("a worker killed with SIGKILL mid-handler: another worker finishes the event, one reply", async () => {
    const a = spawnHost("victim-1");
    await running(a);
    const conv = peer(1);
    await publishEvent(bus, message(conv, "/slow 1500 k1"), PARTITIONS);
    await started("k1", "victim-1");
    a.proc.kill("SIGKILL");
    await a.exited;
    const b = await startWorker(bus, "survivor-1", SLOW);
    workers.push(b);
    try {
      // ack_wait (4 s) passes, the event is redelivered to the survivor, which runs it to the end.
      await started("k1", "survivor-1");
      await waitFor(async () => (await replies(conv)).length > 0, 30_000, "reply from the survivor");
      await new Promise((r) => setTimeout(r, 500));
      await waitFor(() => b.app.stats().handled === 1, 10_000, "survivor acked");
      expect((await replies(conv)).map((r) => r.text)).toEqual(["done k1"]);
    } finally {
      await b.stop();
    }
  });

  it("a worker killed after replying: the redelivered event's reply is deduplicated", async () => {
    const a = spawnHost("victim-2");
    await running(a);
    const conv = peer(2);
    await publishEvent(bus, message(conv, "/slow 1500 k2 early"), PARTITIONS);
    await started("k2", "victim-2");
    a.proc.kill("SIGKILL");
    await a.exited;
    const b = await startWorker(bus, "survivor-2", SLOW);
    workers.push(b);
    try {
      await started("k2", "survivor-2");
      // The survivor ran the handler again; its reply had the same id and JetStream dropped it.
      await waitFor(() => b.app.metrics.actions.get().then((m) => m.values.some((v) => v.labels.duplicate === "true" && v.value > 0)), 20_000, "duplicate publish");
      await waitFor(() => b.app.stats().handled === 1, 10_000, "survivor acked");
      expect((await replies(conv)).map((r) => r.text)).toEqual(["done k2"]);
    } finally {
      await b.stop();
    }
  });

  it("SIGTERM stops pulling, finishes the in-flight handler, and exits 0", async () => {
    const c = spawnHost("graceful");
    await running(c);
    const conv = peer(3);
    await publishEvent(bus, message(conv, "/slow 700 g1"), PARTITIONS);
    await started("g1", "graceful");
    c.proc.kill("SIGTERM");
    expect(await c.exited).toBe(0);
    expect((await replies(conv)).map((r) => r.text)).toEqual(["done g1"]);
    expect(c.stdout.some((l) => l.includes('"stopped"'))).toBe(true);
    // It was acked before exit: nothing is pending on its partition.
    const { partitionOf } = await import("@session-bot/protocol");
    const info = await bus.jsm.consumers.info(INBOUND_STREAM, pluginHostConsumer(BOT, partitionOf(conv, PARTITIONS)));
    expect(info.num_ack_pending).toBe(0);
    expect(info.num_pending).toBe(0);
  });

  it("SIGTERM past the grace period aborts the handler and hands the event to another worker at once", async () => {
    const c = spawnHost("impatient", { PLUGIN_HOST_SHUTDOWN_GRACE_MS: "200" });
    await running(c);
    const conv = peer(4);
    await publishEvent(bus, message(conv, "/slow 2000 g2"), PARTITIONS);
    await started("g2", "impatient");
    const t = Date.now();
    c.proc.kill("SIGTERM");
    expect(await c.exited).toBe(0);
    expect(Date.now() - t).toBeLessThan(1_800);
    expect(await replies(conv)).toEqual([]);
    const b = await startWorker(bus, "heir", SLOW);
    workers.push(b);
    try {
      const t2 = Date.now();
      await started("g2", "heir");
      // nak'ed without delay: no wait for ack_wait (4 s)
      expect(Date.now() - t2).toBeLessThan(3_000);
      await waitFor(async () => (await replies(conv)).length > 0, 10_000, "reply from the heir");
      expect((await replies(conv)).map((r) => r.text)).toEqual(["done g2"]);
    } finally {
      await b.stop();
    }
  });

  it("refuses to start with a plugin that has no valid definition, saying why", async () => {
    const bad = fileURLToPath(new URL("./fixtures/bad", import.meta.url));
    const c = spawnHost("bad", { PLUGIN_HOST_PLUGIN_DIR: bad });
    expect(await c.exited).toBe(1);
    expect(c.stderr).toMatch(/HOST_PLUGIN_LOAD_FAILED/);
    expect(c.stderr).toMatch(/bad-manifest\.mjs: .*name must match/);
  });

  it("refuses a bad environment with a clear message", async () => {
    const c = spawnHost("badenv", { PLUGIN_HOST_MAX_DELIVER: "many" });
    expect(await c.exited).toBe(1);
    expect(c.stderr).toContain("PLUGIN_HOST_MAX_DELIVER must be an integer");
  });
});
