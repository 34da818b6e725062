#!/usr/bin/env node
// session-chat: a terminal Session client on @session-bot/session, for the devnet or mainnet.
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline";
import {
  Identity,
  SessionClient,
  StorageRpcNetwork,
  isSessionError,
  type AttachmentInfo,
  type MessageEvent,
  type SessionEvent,
  type StorageRpcNetworkOptions,
} from "@session-bot/session";
import { pino } from "pino";
import { isDevnetError } from "../errors.js";
import { CHAT_USAGE, parseChatArgs, type ChatConfig } from "./chat-config.js";
import { JsonFileStorage } from "./file-storage.js";

/** Exit codes. */
const EXIT = { ok: 0, usage: 1, noReply: 2, failed: 3 } as const;

class Exit extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

const out = (line: string): void => void process.stdout.write(`${line}\n`);
const note = (line: string): void => void process.stderr.write(`${line}\n`);
const short = (id: string): string => `${id.slice(0, 8)}…${id.slice(-4)}`;

/** Loads the identity from `<dataDir>/mnemonic`, creating it (mode 0600) on first run. */
async function loadIdentity(dataDir: string): Promise<{ identity: Identity; created: boolean }> {
  const file = path.join(dataDir, "mnemonic");
  if (fs.existsSync(file)) {
    try {
      return { identity: await Identity.fromMnemonic(fs.readFileSync(file, "utf8").trim()), created: false };
    } catch (err) {
      // The error names a position, never the words.
      throw new Exit(EXIT.usage, `${file} does not hold a valid recovery password: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const identity = await Identity.generate();
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, `${identity.mnemonic()}\n`, { mode: 0o600, flag: "wx" });
  return { identity, created: true };
}

function safeName(name: string): string {
  const base = path.basename(name).replace(/[^\w.\- ]+/g, "_").slice(0, 100);
  return base === "" || base === "." || base === ".." ? "attachment" : base;
}

/** Downloads, decrypts and saves the attachments of a message; returns the paths. */
async function saveAttachments(client: SessionClient, ev: MessageEvent, dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const [i, a] of ev.attachments.entries()) {
    const bytes = await client.downloadAttachment(a);
    fs.mkdirSync(dir, { recursive: true });
    let file = path.join(dir, `${ev.timestamp}-${i}-${safeName(a.fileName ?? "attachment.bin")}`);
    for (let n = 1; fs.existsSync(file); n++) file = file.replace(/(\.\w+)?$/, `-${n}$1`);
    fs.writeFileSync(file, bytes);
    paths.push(file);
  }
  return paths;
}

/** Display names seen in profiles, so later events can name their sender. */
const names = new Map<string, string>();

function who(id: string): string {
  return names.get(id) ?? short(id);
}

function describe(ev: SessionEvent): string {
  if ((ev.kind === "message" || ev.kind === "reaction" || ev.kind === "messageRequestResponse") && ev.profile?.displayName)
    names.set(ev.sender, ev.profile.displayName);
  switch (ev.kind) {
    case "message":
      return `${who(ev.sender)}: ${ev.text}${ev.quote ? " (reply)" : ""}${
        ev.attachments.length ? ` [${ev.attachments.length} attachment(s)]` : ""
      }`;
    case "reaction":
      return `${who(ev.sender)} ${ev.action === "add" ? "reacted" : "removed reaction"} ${ev.emoji} (message ${ev.target.timestamp})`;
    case "typing":
      return `${who(ev.sender)} ${ev.typing ? "is typing…" : "stopped typing"}`;
    case "readReceipt":
      return `${who(ev.sender)} read ${ev.timestamps.length} message(s)`;
    case "messageRequestResponse":
      return `${who(ev.sender)} ${ev.approved ? "accepted" : "declined"} the conversation`;
    case "unsend":
      return `${who(ev.sender)} deleted message ${ev.target.timestamp}`;
    case "expirationTimerUpdate":
      return `${who(ev.sender)} set disappearing messages: ${ev.expirationMode} ${ev.expirationTimerSeconds}s`;
    case "dataExtraction":
      return `${who(ev.sender)} ${ev.type === "screenshot" ? "took a screenshot" : "saved media"}`;
  }
}

function networkOptions(cfg: ChatConfig, storage: JsonFileStorage): StorageRpcNetworkOptions {
  const t = cfg.target;
  const pem = t.certificatePem;
  return {
    seedUrls: t.seedUrls,
    snodeScheme: t.snodeScheme,
    fileServerUrl: t.fileServerUrl,
    ...(pem !== undefined ? { seedCertificatePem: pem } : {}),
    ...(pem !== undefined && t.fileServerUrl.startsWith("https:") ? { fileServerTrust: { kind: "pinned" as const, certificatePem: pem } } : {}),
    ...(t.insecureSeeds ? { seedTrust: { kind: "insecure" as const } } : {}),
    storage,
    logger: pino({ level: "warn", base: { app: "session-chat" } }, pino.destination(2)),
  };
}

async function sendOne(client: SessionClient, to: string, text: string | undefined, attach: string | undefined) {
  const attachments: AttachmentInfo[] = [];
  if (attach !== undefined) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(attach);
    } catch (err) {
      throw new Exit(EXIT.usage, `cannot read ${attach}: ${err instanceof Error ? err.message : String(err)}`);
    }
    attachments.push(await client.uploadAttachment(bytes, { fileName: path.basename(attach), contentType: "application/octet-stream" }));
  }
  return attachments.length > 0 ? client.sendMessage(to, { text: text ?? "", attachments }) : client.sendText(to, text ?? "");
}

/** --send / --attach [--expect-reply]. */
async function scripted(client: SessionClient, cfg: ChatConfig): Promise<number> {
  const to = cfg.to!;
  if (cfg.expectReply) {
    // Mark what is already in the inbox as seen, so an old message is not taken for the reply.
    const old = await client.pollOnce();
    await client.commit(old);
  }
  const sent = await sendOne(client, to, cfg.send, cfg.attach);
  if (!cfg.expectReply) {
    out(cfg.json ? JSON.stringify({ sent: sent }) : `sent ${sent.timestamp} (${sent.hash})`);
    return EXIT.ok;
  }
  note(`sent ${sent.timestamp}; waiting up to ${cfg.timeoutSeconds}s for a reply from ${short(to)}`);
  const deadline = Date.now() + cfg.timeoutSeconds * 1000;
  while (Date.now() < deadline) {
    let batch;
    try {
      batch = await client.pollOnce();
    } catch (err) {
      note(`poll failed: ${isSessionError(err) ? err.code : String(err)}; retrying`);
      await new Promise((r) => setTimeout(r, cfg.pollMs));
      continue;
    }
    let reply: MessageEvent | undefined;
    for (const item of batch.items) {
      if (item.status !== "event") continue;
      const ev = item.event;
      if (ev.sender !== to) continue;
      if (ev.kind === "message") {
        reply ??= ev;
      } else if (!cfg.json) note(describe(ev));
    }
    await client.commit(batch);
    if (reply) {
      const saved = await saveAttachments(client, reply, cfg.saveDir);
      if (cfg.json) out(JSON.stringify({ reply, savedAttachments: saved }));
      else {
        out(reply.text);
        for (const p of saved) out(`[attachment] ${p}`);
      }
      return EXIT.ok;
    }
    await new Promise((r) => setTimeout(r, Math.min(cfg.pollMs, Math.max(0, deadline - Date.now()))));
  }
  throw new Exit(EXIT.noReply, `no reply from ${to} within ${cfg.timeoutSeconds}s`);
}

/** Interactive chat: lines are sent, events printed as they come. */
async function interactive(client: SessionClient, cfg: ChatConfig): Promise<number> {
  let peer = cfg.to;
  let lastReceived: MessageEvent | undefined;
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
  const print = (line: string): void => {
    if (process.stdout.isTTY) {
      readline.clearLine(process.stdout, 0);
      readline.cursorTo(process.stdout, 0);
    }
    out(line);
    rl.prompt(true);
  };
  client.on("event", async (ev) => {
    if (cfg.json) {
      print(JSON.stringify(ev));
    } else {
      const time = new Date(ev.timestamp).toLocaleTimeString();
      print(`[${time}] ${describe(ev)}`);
    }
    if (ev.kind === "message") {
      lastReceived = ev;
      peer ??= ev.sender;
      if (ev.attachments.length > 0) {
        try {
          for (const p of await saveAttachments(client, ev, cfg.saveDir)) print(`  saved ${p}`);
        } catch (err) {
          print(`  attachment download failed: ${isSessionError(err) ? err.code : String(err)}`);
        }
      }
    }
  });
  client.on("error", ({ error }) => print(`[undecryptable message: ${error.code}]`));
  client.on("pollError", (err) => print(`[poll failed: ${err.code}]`));

  // Typing indicator while the user types (TTY only), at most one every 10 s, like the apps.
  let lastTyping = 0;
  if (process.stdin.isTTY) {
    readline.emitKeypressEvents(process.stdin);
    process.stdin.on("keypress", () => {
      if (!peer || Date.now() - lastTyping < 10_000) return;
      lastTyping = Date.now();
      client.sendTyping(peer, true).catch(() => undefined);
    });
  }

  out(`You are ${client.sessionId}`);
  out(peer ? `Chatting with ${peer}. /help for commands.` : "No peer yet: /to <session-id>, or wait for a message. /help for commands.");
  client.startPolling();
  rl.setPrompt("> ");
  rl.prompt();

  const help = [
    "/to <session-id>      chat with someone",
    "/react <emoji>        react to the last message received",
    "/attach <file> [text] send a file",
    "/typing               send a typing indicator",
    "/accept               accept the peer's message request",
    "/id                   show your Session ID",
    "/quit                 leave (also Ctrl-D / Ctrl-C)",
  ].join("\n");

  for await (const raw of rl) {
    const line = raw.trim();
    try {
      if (line === "") {
        // nothing
      } else if (line === "/quit" || line === "/exit") {
        break;
      } else if (line === "/help") {
        print(help);
      } else if (line === "/id") {
        print(client.sessionId);
      } else if (line.startsWith("/to ")) {
        const id = line.slice(4).trim().toLowerCase();
        if (!/^05[0-9a-f]{64}$/.test(id)) print("not a Session ID (05 + 64 hex)");
        else {
          peer = id;
          print(`chatting with ${peer}`);
        }
      } else if (!peer) {
        print("no peer: /to <session-id> first");
      } else if (line.startsWith("/react ")) {
        if (!lastReceived) print("nothing to react to yet");
        else {
          await client.react(lastReceived.sender, { timestamp: lastReceived.timestamp, author: lastReceived.sender }, line.slice(7).trim());
          print("(reaction sent)");
        }
      } else if (line === "/typing") {
        await client.sendTyping(peer, true);
      } else if (line === "/accept") {
        await client.acceptMessageRequest(peer);
        print("(accepted)");
      } else if (line.startsWith("/attach ")) {
        const [file, ...rest] = line.slice(8).trim().split(" ");
        const sent = await sendOne(client, peer, rest.join(" ") || undefined, path.resolve(file ?? ""));
        print(`(sent file, ${sent.timestamp})`);
      } else if (line.startsWith("/")) {
        print("unknown command; /help");
      } else {
        await client.sendText(peer, line);
        lastTyping = 0;
      }
    } catch (err) {
      print(`failed: ${isSessionError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err)}`);
    }
    rl.prompt();
  }
  rl.close();
  await client.stopPolling();
  return EXIT.ok;
}

async function main(): Promise<number> {
  const cfg = parseChatArgs(process.argv.slice(2));
  if (cfg.help) {
    process.stdout.write(CHAT_USAGE);
    return EXIT.ok;
  }
  const { identity, created } = await loadIdentity(cfg.dataDir);
  if (created) note(`session-chat: new identity created in ${path.join(cfg.dataDir, "mnemonic")}`);
  if (cfg.showMnemonic) {
    out(identity.mnemonic());
    return EXIT.ok;
  }
  if (cfg.showId) {
    out(identity.sessionId);
    return EXIT.ok;
  }
  const storage = new JsonFileStorage(path.join(cfg.dataDir, "state.json"));
  const network = new StorageRpcNetwork(networkOptions(cfg, storage));
  try {
    const client = await SessionClient.create({
      identity,
      network,
      storage,
      pollIntervalMs: cfg.pollMs,
      ...(cfg.name !== undefined ? { displayName: cfg.name } : {}),
    });
    try {
      if (cfg.send !== undefined || cfg.attach !== undefined) return await scripted(client, cfg);
      return await interactive(client, cfg);
    } finally {
      await client.close();
    }
  } finally {
    await network.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 200).unref();
  },
  (err: unknown) => {
    const code = err instanceof Exit ? err.code : isDevnetError(err) ? EXIT.usage : EXIT.failed;
    const msg =
      err instanceof Exit || isDevnetError(err)
        ? err.message
        : isSessionError(err)
          ? `${err.code}: ${err.message}`
          : err instanceof Error
            ? err.message
            : String(err);
    note(`session-chat: ${msg}`);
    process.exit(code);
  },
);
