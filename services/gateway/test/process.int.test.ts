/**
 * The gateway as a process (`dist/main.js`): configuration errors stop it without leaking the
 * token, it serves over a real nats-server, and SIGTERM closes it cleanly (exit 0).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startNats, type TestNats } from "@session-bot/nats-testing";

const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const TOKEN = "process-test-token-0123456789";

let nats: TestNats;
let dir: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  nats = await startNats();
  dir = mkdtempSync(join(tmpdir(), "gw-proc-"));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  await nats?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function run(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, exited: new Promise((r) => child.once("exit", (code) => r(code))) };
}

async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("gateway process", () => {
  it("refuses an invalid configuration with exit 1, naming the variable and not the secret", async () => {
    const p = run({ GATEWAY_ADMIN_TOKENS: "short-secret", NATS_URL: nats.url });
    expect(await p.exited).toBe(1);
    expect(p.output()).toContain("CONFIG_INVALID");
    expect(p.output()).toContain("adminTokens");
    expect(p.output()).not.toContain("short-secret");
  });

  it("serves with tokens from a file, logs JSON without the token, and stops on SIGTERM with exit 0", async () => {
    const tokenFile = join(dir, "tokens");
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const p = run({ GATEWAY_ADMIN_TOKENS_FILE: tokenFile, NATS_URL: nats.url, GATEWAY_PORT: "0", SB_BOT: "proc", LOG_LEVEL: "info" });
    const url = await waitFor("the listen line", () => /"msg":"Server listening at (http:\/\/127\.0\.0\.1:\d+)"/.exec(p.output())?.[1]);
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const refused = await fetch(`${url}/admin/bot`, { headers: { authorization: "Bearer wrong-token-xxxxxxxxxxxx" } });
    expect(refused.status).toBe(401);
    // No broker in this test: the admin API says so with a problem, not a hang or a crash.
    const bot = await fetch(`${url}/admin/bot`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bot.status).toBe(503);
    expect(((await bot.json()) as { code: string }).code).toBe("BROKER_UNAVAILABLE");
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);

    p.child.kill("SIGTERM");
    expect(await p.exited).toBe(0);
    const out = p.output();
    expect(out).toContain('"msg":"gateway stopped"');
    expect(out).not.toContain(TOKEN);
    for (const line of out.trim().split("\n")) expect(() => JSON.parse(line) as unknown, line).not.toThrow();
  });
});
