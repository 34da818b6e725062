// The compose stack for real: build the images, `docker compose --profile dev up`, wait for health,
// scale plugin-host to 3, a scripted Session user gets an answer to /ping, 50 messages while one
// plugin-host container is killed each get exactly one answer, `docker compose down -v`.
//
// Minutes, not seconds (image build ~5-10 min cold on 2 cores, the run ~3 min): not part of `test`.
//   pnpm --filter @session-bot/deploy-tests test:e2e
// Runs as compose project `sb-e2e` with its own .env (deploy/init-env.sh), image tag `e2e` and
// gateway port, so it never touches an operator's stack; everything it created is removed at the
// end (the images stay, as a build cache). It builds from a snapshot of the work tree taken at its
// start (tracked and untracked files, minus ignored ones): files edited meanwhile would otherwise
// change the build context between the four image builds and defeat BuildKit's cache.
import { execFile, execFileSync, spawn } from "node:child_process";
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_PARTITIONS, partitionOf } from "@session-bot/protocol";
import { repoRoot } from "../src/index.js";

const root = repoRoot();
const PROJECT = process.env.SB_E2E_PROJECT ?? "sb-e2e";
const dir = mkdtempSync(join(tmpdir(), "sb-e2e-"));
const envFile = join(dir, ".env");
const snapshot = join(dir, "src");
let gatewayUrl = "";
const run = promisify(execFile);
/** The stack runs with the default partition count (docker-compose.yaml sets no SB_PARTITIONS). */
const PARTITIONS = DEFAULT_PARTITIONS;

function composeArgs(args: readonly string[]): string[] {
  return ["compose", "-p", PROJECT, "--project-directory", snapshot, "-f", "docker-compose.yaml", "-f", "deploy/e2e/compose.e2e.yaml", "--env-file", envFile, "--profile", "dev", ...args];
}
function compose(args: readonly string[], timeoutMs = 120_000): string {
  return execFileSync("docker", composeArgs(args), { cwd: snapshot, encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 << 20 });
}
async function composeAsync(args: readonly string[], timeoutMs: number): Promise<string> {
  const { stdout } = await run("docker", composeArgs(args), { cwd: snapshot, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 << 20 });
  return stdout;
}
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      s.close(() => resolve(typeof a === "object" && a ? a.port : 0));
    });
  });
}
async function waitFor(what: string, timeoutMs: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out waiting for ${what}`);
}
/** A plugin-host container's /metrics, read from inside the container. */
function metricsOf(id: string): string {
  const script = "fetch('http://127.0.0.1:9102/metrics').then((r) => r.text()).then((t) => process.stdout.write(t))";
  return execFileSync("docker", ["exec", id, "node", "-e", script], { encoding: "utf8", timeout: 20_000 });
}
/** Events the worker has acked so far. */
function acksOf(id: string): number {
  return Number(/^sb_plugin_host_deliveries_total\{outcome="ack"\} (\d+)/m.exec(metricsOf(id))?.[1] ?? 0);
}
/** The running plugin-host container that owns `partition` now, and its acks so far. */
function ownerOf(partition: number): { id: string; acks: number } | undefined {
  const owned = new RegExp(`^sb_plugin_host_partition_owned\\{partition="${partition}"\\} 1$`, "m");
  const id = running("plugin-host").find((c) => owned.test(metricsOf(c)));
  return id === undefined ? undefined : { id, acks: acksOf(id) };
}
const running = (service: string) => compose(["ps", "-q", "--status", "running", service]).split("\n").filter(Boolean);
/** The scripted user's result: the last stdout line of `driver.mjs`. */
async function driver(args: readonly string[], timeoutMs: number): Promise<Record<string, unknown>> {
  const out = await composeAsync(["run", "--rm", "--no-deps", "-T", "e2e-driver", ...args], timeoutMs);
  return JSON.parse(out.trim().split("\n").pop()!) as Record<string, unknown>;
}

beforeAll(async () => {
  mkdirSync(snapshot);
  execFileSync(
    "bash",
    ["-c", `git ls-files -z --cached --others --exclude-standard | tar --null --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C "${snapshot}"`],
    { cwd: root, stdio: "ignore" },
  );
  execFileSync("bash", [join(snapshot, "deploy", "init-env.sh"), envFile], { stdio: "ignore" });
  const port = await freePort();
  gatewayUrl = `http://127.0.0.1:${port}`;
  appendFileSync(envFile, `GATEWAY_PUBLISH=127.0.0.1:${port}\nPLUGIN_HOST_REPLICAS=2\nSB_VERSION=e2e\n`);
  compose(["build"], 30 * 60_000);
  compose(["up", "-d", "--wait", "--wait-timeout", "300"], 10 * 60_000);
});

afterAll(() => {
  try {
    // the logs of a failed run are the only way to see why
    process.stdout.write(compose(["logs", "--no-color", "--tail", "80"]));
  } catch {
    /* the stack may not exist */
  }
  try {
    // with the e2e profile too, so leftover `run` containers of the driver go as well
    compose(["--profile", "e2e", "down", "-v", "--remove-orphans", "--timeout", "20"], 5 * 60_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("docker compose --profile dev", () => {
  it("comes up healthy and the gateway reports the fleet ready", async () => {
    for (const s of ["nats", "broker-net", "broker", "gateway", "devnet"]) expect(running(s), s).toHaveLength(1);
    expect(running("plugin-host")).toHaveLength(2);
    expect((await fetch(`${gatewayUrl}/healthz`)).status).toBe(200);
    await waitFor("gateway /readyz", 180_000, async () => (await fetch(`${gatewayUrl}/readyz`)).status === 200);
  });

  it("scales plugin-host to 3 with --scale", () => {
    compose(["up", "-d", "--wait", "--wait-timeout", "180", "--scale", "plugin-host=3", "--no-recreate"], 5 * 60_000);
    expect(running("plugin-host")).toHaveLength(3);
  });

  it("a Session user on the devnet gets an answer to /ping", async () => {
    const r = await driver(["ping"], 5 * 60_000);
    expect(r.replies).toEqual([expect.stringMatching(/pong/i)]);
  });

  it("50 messages while one plugin-host is killed: each gets exactly one answer", async () => {
    // The workers split the partitions (partition ownership), and all 50 messages come from one
    // user, so one partition, so one worker: the victim is that worker, read from the workers'
    // /metrics (sb_plugin_host_partition_owned) once the driver says who the user is. The driver
    // sends the 50 messages 100 ms apart. Once the victim has acked two of them, it is handling the
    // stream and pulls again after every event, so its pull is fresh: it is frozen then (docker
    // pause), and its live pull takes the next event, which it can neither process nor ack. 3 s
    // later it is SIGKILLed (no drain, no ack); another worker takes the partition over, and
    // JetStream redelivers the held event after ack_wait (30 s), the events behind it in order.
    const child = spawn("docker", composeArgs(["run", "--rm", "--no-deps", "-T", "e2e-driver", "burst", "50"]), { cwd: snapshot });
    let stdout = "";
    let stderr = "";
    let victim: { id: string; acks: number } | undefined;
    let freezing: Promise<void> | undefined;
    let killed = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (victim === undefined) {
        const ready = /"msg":"driver ready","user":"(05[0-9a-f]{64})"/.exec(stderr);
        if (ready) victim = ownerOf(partitionOf(ready[1]!, PARTITIONS));
      }
      if (victim !== undefined && freezing === undefined && stderr.includes('"msg":"burst started"')) {
        const v = victim;
        freezing = (async () => {
          const deadline = Date.now() + 60_000;
          while (acksOf(v.id) < v.acks + 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
          execFileSync("docker", ["pause", v.id], { stdio: "ignore" });
          await new Promise((r) => setTimeout(r, 3_000));
          execFileSync("docker", ["kill", v.id], { stdio: "ignore" });
          killed = true;
        })();
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    await freezing;
    expect(code, stderr).toBe(0);
    expect(victim, "no worker owns the user's partition").toBeDefined();
    expect(killed, "the victim was not killed").toBe(true);
    expect(running("plugin-host")).not.toContain(victim!.id);
    const r = JSON.parse(stdout.trim().split("\n").pop()!) as { sent: number; counts: Record<string, number>; lastReplyAfterSendMs: number };
    process.stdout.write(`burst: ${r.sent} sent, last answer ${r.lastReplyAfterSendMs} ms after the last send\n`);
    expect(r.sent).toBe(50);
    const wrong = Object.entries(r.counts).filter(([, n]) => n !== 1);
    expect(wrong, "messages answered zero or several times").toEqual([]);
    expect(Object.keys(r.counts)).toHaveLength(50);
    // the last answers came only after ack_wait: events the killed worker held were redelivered
    // (ack_wait is 30 s from delivery; the burst itself takes a few seconds to send)
    expect(r.lastReplyAfterSendMs, "no event waited for redelivery").toBeGreaterThanOrEqual(20_000);
  });
});
