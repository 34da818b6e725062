// session-devnet as a process: start, read the printed URLs, use it, SIGINT, exit 0.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { post } from "./helpers.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, "..", "dist", "cli", "devnet.js");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "devnet-cli-"));
const children: ChildProcessWithoutNullStreams[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcessWithoutNullStreams;
  seed: string;
  fileServer: string;
  stdout: () => string;
  stderr: () => string;
}

function start(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [cli, ...args], { stdio: "pipe" });
  children.push(child);
  let out = "";
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URLs printed; stderr: ${err}`)), 20_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${err}`));
    });
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const seed = /seed:\s+(\S+)/.exec(out)?.[1];
      const fileServer = /file server:\s+(\S+)/.exec(out)?.[1];
      if (seed && fileServer && out.includes("Ctrl-C")) {
        clearTimeout(timer);
        child.removeAllListeners("exit");
        resolve({ child, seed, fileServer, stdout: () => out, stderr: () => err });
      }
    });
  });
}

const exitCode = (child: ChildProcessWithoutNullStreams): Promise<number | null> =>
  new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on("exit", (code) => resolve(code))));

const seedBody = JSON.stringify({ jsonrpc: "2.0", id: 0, method: "get_n_service_nodes", params: {} });

describe("session-devnet CLI", () => {
  it("starts, prints its URLs, writes the state file, serves, and stops on SIGINT with exit 0", async () => {
    expect(fs.existsSync(cli)).toBe(true);
    const dataDir = path.join(dir, "a");
    const s = await start(["--http", "--port", "0", "--snodes", "4", "--swarms", "2", "--data-dir", dataDir]);
    expect(s.seed).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/json_rpc$/);
    const r = await post(s.seed, seedBody);
    expect(r.json.result.service_node_states).toHaveLength(4);
    expect((await fetch(`${s.fileServer}/file/1`)).status).toBe(404);
    const state = JSON.parse(fs.readFileSync(path.join(dataDir, "devnet.json"), "utf8"));
    expect(state).toMatchObject({ seedUrls: [s.seed], fileServerUrl: s.fileServer, scheme: "http", pid: s.child.pid });
    // pino JSON logs on stderr
    expect(s.stderr()).toMatch(/"msg":"devnet started"/);
    s.child.kill("SIGINT");
    expect(await exitCode(s.child)).toBe(0);
    expect(fs.existsSync(path.join(dataDir, "devnet.json"))).toBe(false);
  });

  it("keeps keys across restarts from the data dir, persists with --persist, and serves HTTPS by default", async () => {
    const dataDir = path.join(dir, "b");
    const a = await start(["--port", "0", "--snodes", "3", "--swarms", "1", "--data-dir", dataDir, "--persist"]);
    expect(a.seed).toMatch(/^https:/);
    const cfg = JSON.parse(fs.readFileSync(path.join(dataDir, "devnet-config.json"), "utf8"));
    expect(cfg.seed).toMatch(/^[0-9a-f]{32}$/);
    expect(cfg.tls.cert).toMatch(/BEGIN CERTIFICATE/);
    const state = JSON.parse(fs.readFileSync(path.join(dataDir, "devnet.json"), "utf8"));
    expect(state.seedCertificatePem).toBe(cfg.tls.cert);
    const { Agent, fetch: undiciFetch } = await import("undici");
    const dispatcher = new Agent({ connect: { ca: state.seedCertificatePem } });
    const keysOf = async (seed: string): Promise<string[]> => {
      const res = await undiciFetch(seed, { method: "POST", body: seedBody, dispatcher });
      const j = (await res.json()) as { result: { service_node_states: Array<{ pubkey_ed25519: string }> } };
      return j.result.service_node_states.map((x) => x.pubkey_ed25519);
    };
    const keys = await keysOf(a.seed);
    a.child.kill("SIGTERM");
    expect(await exitCode(a.child)).toBe(0);
    expect(fs.existsSync(path.join(dataDir, "devnet.sqlite"))).toBe(true);

    const b = await start(["--port", "0", "--snodes", "3", "--swarms", "1", "--data-dir", dataDir]);
    expect(await keysOf(b.seed)).toEqual(keys);
    await dispatcher.close();
    b.child.kill("SIGINT");
    expect(await exitCode(b.child)).toBe(0);
  });

  it("exits non-zero with a clear message on bad flags", async () => {
    const child = spawn(process.execPath, [cli, "--snodes", "zero"], { stdio: "pipe" });
    children.push(child);
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    expect(await exitCode(child)).toBe(1);
    expect(err).toMatch(/--snodes must be an integer/);
  });
});
