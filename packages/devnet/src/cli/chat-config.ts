// session-chat configuration: flags, and where the devnet can be found, parsed once here.
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { DevnetError } from "../errors.js";
import { invocationDir, stripSeparators } from "./config.js";
import { readState, STATE_FILE } from "./state.js";

/** Public Session seeds (desktop 2026) and file server (reference 4.2, 6.3). */
export const MAINNET = {
  seedUrls: [
    "https://seed1.getsession.org:4443/json_rpc",
    "https://seed2.getsession.org:4443/json_rpc",
    "https://seed3.getsession.org:4443/json_rpc",
  ],
  fileServerUrl: "http://filev2.getsession.org",
} as const;

/** Where session-chat connects to. */
export interface ChatTarget {
  readonly seedUrls: string[];
  readonly fileServerUrl: string;
  readonly snodeScheme: "http" | "https";
  /** Pinned certificate of the seed and file server (devnet HTTPS). */
  readonly certificatePem?: string;
  /** Accept the seeds' certificates unverified (mainnet seeds use self-signed certificates). */
  readonly insecureSeeds: boolean;
  /** Human-readable origin, for messages. */
  readonly source: string;
}

/** Parsed session-chat flags. */
export interface ChatConfig {
  readonly help: boolean;
  readonly dataDir: string;
  readonly to?: string;
  readonly send?: string;
  readonly attach?: string;
  readonly expectReply: boolean;
  readonly timeoutSeconds: number;
  readonly saveDir: string;
  readonly name?: string;
  readonly showId: boolean;
  readonly showMnemonic: boolean;
  readonly json: boolean;
  readonly pollMs: number;
  readonly target: ChatTarget;
}

/** session-chat --help. */
export const CHAT_USAGE = `Usage: session-chat [options]

A terminal Session client (built on @session-bot/session) for the devnet or mainnet.
Its identity (13-word recovery password) lives in <data-dir>/mnemonic, created on first run.

Interactive:   session-chat --to <session-id>
Scripted:      session-chat --to <id> --send "hi" [--attach <file>] [--expect-reply --timeout 30]

  --to <session-id>       peer (interactive: also /to <id>)
  --send <text>           send one message and exit (with --expect-reply: wait for the answer)
  --attach <file>         send a file (with --send: as its text)
  --expect-reply          wait for a message from --to, print it, exit 0; exit 2 if none came
  --timeout <seconds>     how long --expect-reply waits (default 30)
  --save-dir <dir>        where received attachments are saved (default <data-dir>/attachments)
  --name <display name>   display name sent with messages
  --data-dir <dir>        identity and state (default ./.data/chat)
  --seed <url>            seed json_rpc URL (repeatable); default: the running devnet
  --file-server <url>     file server URL (with --seed)
  --seed-cert <file>      PEM certificate of the seed (and an https file server) to trust
  --devnet-state <file>   devnet state file (default ./.data/devnet/devnet.json)
  --mainnet               the public Session network (seeds' certificates are not verified
                          unless --seed-cert is given)
  --show-id               print this identity's Session ID and exit
  --show-mnemonic         print the recovery password and exit (keep it secret)
  --json                  one JSON object per line instead of text
  -h, --help              this help
`;

const SESSION_ID = /^05[0-9a-fA-F]{64}$/;

/** Parses session-chat arguments. */
export function parseChatArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): ChatConfig {
  let values;
  try {
    ({ values } = parseArgs({
      args: stripSeparators(argv),
      options: {
        help: { type: "boolean", short: "h" },
        "data-dir": { type: "string" },
        to: { type: "string" },
        send: { type: "string" },
        attach: { type: "string" },
        "expect-reply": { type: "boolean" },
        timeout: { type: "string" },
        "save-dir": { type: "string" },
        name: { type: "string" },
        seed: { type: "string", multiple: true },
        "file-server": { type: "string" },
        "seed-cert": { type: "string" },
        "devnet-state": { type: "string" },
        mainnet: { type: "boolean" },
        "show-id": { type: "boolean" },
        "show-mnemonic": { type: "boolean" },
        json: { type: "boolean" },
        "poll-ms": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new DevnetError("DEVNET_BAD_OPTIONS", err instanceof Error ? err.message : String(err), { cause: err });
  }
  const base = invocationDir(env);
  const abs = (p: string): string => path.resolve(base, p);
  const dataDir = abs(values["data-dir"] ?? path.join(".data", "chat"));
  const to = values.to?.toLowerCase();
  if (to !== undefined && !SESSION_ID.test(to)) throw new DevnetError("DEVNET_BAD_OPTIONS", "--to must be a Session ID (05 + 64 hex)");
  const timeoutSeconds = values.timeout === undefined ? 30 : Number(values.timeout);
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) throw new DevnetError("DEVNET_BAD_OPTIONS", "--timeout must be a positive number of seconds");
  const pollMs = values["poll-ms"] === undefined ? 1_000 : Number(values["poll-ms"]);
  if (!Number.isInteger(pollMs) || pollMs < 100) throw new DevnetError("DEVNET_BAD_OPTIONS", "--poll-ms must be an integer >= 100");
  if ((values.send !== undefined || values.attach !== undefined || values["expect-reply"]) && to === undefined)
    throw new DevnetError("DEVNET_BAD_OPTIONS", "--send, --attach and --expect-reply need --to");
  const help = values.help ?? false;
  const showOnly = help || (values["show-id"] ?? false) || (values["show-mnemonic"] ?? false);
  return {
    help,
    dataDir,
    ...(to !== undefined ? { to } : {}),
    ...(values.send !== undefined ? { send: values.send } : {}),
    ...(values.attach !== undefined ? { attach: abs(values.attach) } : {}),
    expectReply: values["expect-reply"] ?? false,
    timeoutSeconds,
    saveDir: values["save-dir"] ? abs(values["save-dir"]) : path.join(dataDir, "attachments"),
    ...(values.name !== undefined ? { name: values.name } : {}),
    showId: values["show-id"] ?? false,
    showMnemonic: values["show-mnemonic"] ?? false,
    json: values.json ?? false,
    pollMs,
    target: showOnly
      ? { seedUrls: [], fileServerUrl: "", snodeScheme: "https", insecureSeeds: false, source: "none" }
      : resolveTarget(values, abs),
  };
}

function readPem(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (err) {
    throw new DevnetError("DEVNET_BAD_OPTIONS", `cannot read --seed-cert ${file}`, { cause: err });
  }
}

function resolveTarget(
  values: { seed?: string[]; "file-server"?: string; "seed-cert"?: string; "devnet-state"?: string; mainnet?: boolean },
  abs: (p: string) => string,
): ChatTarget {
  const pem = values["seed-cert"] ? readPem(abs(values["seed-cert"])) : undefined;
  if (values.mainnet) {
    if (values.seed) throw new DevnetError("DEVNET_BAD_OPTIONS", "--mainnet and --seed exclude each other");
    return {
      seedUrls: [...MAINNET.seedUrls],
      fileServerUrl: values["file-server"] ?? MAINNET.fileServerUrl,
      snodeScheme: "https",
      ...(pem ? { certificatePem: pem } : {}),
      insecureSeeds: pem === undefined,
      source: "mainnet",
    };
  }
  if (values.seed && values.seed.length > 0) {
    for (const s of values.seed)
      if (!/^https?:\/\//.test(s)) throw new DevnetError("DEVNET_BAD_OPTIONS", `--seed must be an http(s) URL: ${s}`);
    const fileServerUrl = values["file-server"];
    if (!fileServerUrl) throw new DevnetError("DEVNET_BAD_OPTIONS", "--seed needs --file-server too");
    return {
      seedUrls: values.seed,
      fileServerUrl,
      snodeScheme: values.seed[0]!.startsWith("http:") ? "http" : "https",
      ...(pem ? { certificatePem: pem } : {}),
      insecureSeeds: false,
      source: values.seed[0]!,
    };
  }
  const stateFile = abs(values["devnet-state"] ?? path.join(".data", "devnet", STATE_FILE));
  const state = readState(stateFile);
  if (!state)
    throw new DevnetError(
      "DEVNET_STATE_FILE",
      `no running devnet found (${stateFile} does not exist): start one with \`pnpm devnet\`, or pass --seed/--file-server or --mainnet`,
    );
  return {
    seedUrls: [...state.seedUrls],
    fileServerUrl: values["file-server"] ?? state.fileServerUrl,
    snodeScheme: state.scheme,
    ...(pem ? { certificatePem: pem } : state.seedCertificatePem ? { certificatePem: state.seedCertificatePem } : {}),
    insecureSeeds: false,
    source: `devnet (${stateFile})`,
  };
}
