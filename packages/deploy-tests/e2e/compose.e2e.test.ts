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
import { repoRoot } from "../src/index.js";

const root = repoRoot();
const PROJECT = process.env.SB_E2E_PROJECT ?? "sb-e2e";
const dir = mkdtempSync(join(tmpdir(), "sb-e2e-"));
const envFile = join(dir, ".env");
const snapshot = join(dir, "src");
let gatewayUrl = "";
const run = promisify(execFile);

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
    // The victim is frozen (docker pause) as soon as the driver is ready to send, not before the
    // driver starts: plugin-host's pull requests expire after 5 s, and starting the driver
    // container takes longer, so a victim frozen earlier holds no live pull when the burst lands.
    // Frozen right before the burst, its live pulls still take events that it can neither process
    // nor ack. On the first answer it is SIGKILLed (no drain, no ack): JetStream redelivers what it
    // held to the others after ack_wait (30 s).
    const victim = running("plugin-host")[0]!;
    const child = spawn("docker", composeArgs(["run", "--rm", "--no-deps", "-T", "e2e-driver", "burst", "50"]), { cwd: snapshot });
    let stdout = "";
    let stderr = "";
    let paused = false;
    let killed = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
      if (!paused && stderr.includes('"msg":"driver ready"')) {
        paused = true;
        execFileSync("docker", ["pause", victim], { stdio: "ignore" });
      }
      if (paused && !killed && stderr.includes('"msg":"reply"')) {
        killed = true;
        execFileSync("docker", ["kill", victim], { stdio: "ignore" });
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code, stderr).toBe(0);
    expect(killed, "the burst got no answer at all").toBe(true);
    expect(running("plugin-host")).not.toContain(victim);
    const r = JSON.parse(stdout.trim().split("\n").pop()!) as { sent: number; counts: Record<string, number>; lastReplyAfterSendMs: number };
    expect(r.sent).toBe(50);
    const wrong = Object.entries(r.counts).filter(([, n]) => n !== 1);
    expect(wrong, "messages answered zero or several times").toEqual([]);
    expect(Object.keys(r.counts)).toHaveLength(50);
    // the last answers came only after ack_wait: events the killed worker held were redelivered
    // (ack_wait is 30 s from delivery; the burst itself takes a few seconds to send)
    expect(r.lastReplyAfterSendMs, "no event waited for redelivery").toBeGreaterThanOrEqual(20_000);
  });
});
