// session-chat as a process against an in-process devnet and an echo bot built on the session client.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Identity, MemoryStorage, SessionClient, StorageRpcNetwork } from "@session-bot/session";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDevnet, type Devnet } from "../src/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const cli = path.join(here, "..", "dist", "cli", "chat.js");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "devnet-chat-"));
const stateFile = path.join(dir, "devnet.json");

let net: Devnet;
let bot: SessionClient;
let botNet: StorageRpcNetwork;

beforeAll(async () => {
  net = await startDevnet({ http: true, snodeCount: 6, swarmCount: 2 });
  fs.writeFileSync(stateFile, JSON.stringify({ seedUrls: net.seedUrls, fileServerUrl: net.fileServerUrl, scheme: net.scheme, pid: process.pid, startedAt: new Date().toISOString() }));
  botNet = new StorageRpcNetwork({ seedUrls: [...net.seedUrls], snodeScheme: "http", fileServerUrl: net.fileServerUrl });
  bot = await SessionClient.create({ identity: await Identity.generate(), network: botNet, storage: new MemoryStorage(), pollIntervalMs: 200, displayName: "echo" });
  bot.on("message", async (m) => {
    if (m.attachments.length > 0) await bot.sendMessage(m.sender, { text: `echo file ${m.attachments[0]!.fileName}`, attachments: m.attachments });
    else {
      await bot.sendTyping(m.sender, true);
      await bot.react(m.sender, { timestamp: m.timestamp, author: m.sender }, "👍");
      await bot.sendText(m.sender, `echo: ${m.text}`);
    }
  });
  bot.startPolling();
});

afterAll(async () => {
  await bot.close();
  await botNet.close();
  await net.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("session-chat", () => {
  const dataDir = path.join(dir, "alice");
  const common = ["--data-dir", dataDir, "--devnet-state", stateFile, "--poll-ms", "200"];

  it("creates its identity once, keeps it, and never prints the mnemonic unless asked", async () => {
    const a = await run(["--data-dir", dataDir, "--show-id"]);
    expect(a.code).toBe(0);
    const id = a.stdout.trim();
    expect(id).toMatch(/^05[0-9a-f]{64}$/);
    expect(a.stderr).toMatch(/new identity created/);
    const mnemonicFile = path.join(dataDir, "mnemonic");
    expect(fs.statSync(mnemonicFile).mode & 0o777).toBe(0o600);
    const words = fs.readFileSync(mnemonicFile, "utf8").trim();
    expect(words.split(" ")).toHaveLength(13);
    const b = await run(["--data-dir", dataDir, "--show-id"]);
    expect(b.stdout.trim()).toBe(id);
    expect(b.stdout + b.stderr).not.toContain(words);
    const c = await run(["--data-dir", dataDir, "--show-mnemonic"]);
    expect(c.stdout.trim()).toBe(words);
    expect((await Identity.fromMnemonic(words)).sessionId).toBe(id);
  });

  it("--send --expect-reply prints the reply and exits 0", async () => {
    const r = await run([...common, "--to", bot.sessionId, "--send", "hello devnet", "--expect-reply", "--timeout", "20"]);
    expect(r.stderr).not.toMatch(/no reply/);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("echo: hello devnet");
    // a second exchange does not mistake the first reply for the new one
    const r2 = await run([...common, "--to", bot.sessionId, "--send", "second", "--expect-reply", "--timeout", "20"]);
    expect(r2.stdout.trim()).toBe("echo: second");
  });

  it("--attach sends a file and saves the attachment of the reply", async () => {
    const file = path.join(dir, "photo.bin");
    const content = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7) & 255));
    fs.writeFileSync(file, content);
    const saveDir = path.join(dir, "saved");
    const r = await run([...common, "--seed", net.seedUrls[0]!, "--file-server", net.fileServerUrl, "--to", bot.sessionId, "--attach", file, "--expect-reply", "--save-dir", saveDir, "--timeout", "20"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("echo file photo.bin");
    const saved = /^\[attachment\] (.+)$/.exec(lines[1] ?? "")?.[1];
    expect(saved).toBeDefined();
    expect(path.dirname(saved!)).toBe(saveDir);
    expect(fs.readFileSync(saved!).equals(content)).toBe(true);
  });

  it("interactive: sends typed lines and shows replies, reactions and typing as they come", async () => {
    const child = spawn(process.execPath, [cli, ...common, "--to", bot.sessionId], { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const waitFor = async (re: RegExp): Promise<void> => {
      const deadline = Date.now() + 20_000;
      while (!re.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(stdout).toMatch(re);
    };
    await waitFor(/Chatting with 05/);
    child.stdin.write("hi there\n");
    await waitFor(/echo: echo: hi there/);
    await waitFor(/is typing/);
    await waitFor(/reacted 👍/);
    child.stdin.write("/id\n/quit\n");
    const code = await new Promise<number | null>((r) => child.on("exit", r));
    expect(code).toBe(0);
    expect(stdout).toMatch(/You are 05[0-9a-f]{64}/);
  });

  it("exits 2 with a clear message when no reply comes", async () => {
    const nobody = await Identity.generate();
    const r = await run([...common, "--to", nobody.sessionId, "--send", "anyone?", "--expect-reply", "--timeout", "1.5"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no reply from ${nobody.sessionId} within 1.5s`);
  });

  it("exits 1 with a clear message without a running devnet or with bad flags", async () => {
    const r = await run(["--data-dir", dataDir, "--devnet-state", path.join(dir, "missing.json"), "--to", bot.sessionId, "--send", "x"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no running devnet found/);
    const bad = await run(["--data-dir", dataDir, "--to", "nope", "--send", "x"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--to must be a Session ID/);
  });
});
