// The only module that reads the environment. Everything is parsed and validated once into a
// typed, frozen object; secrets are wrapped so that they never print.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { inspect } from "node:util";
import { BOT_NAME_PATTERN, DEFAULT_PARTITIONS, MAX_ATTACHMENT_BYTES, MAX_DISPLAY_NAME_LENGTH, MAX_PARTITIONS, MAX_TEXT_LENGTH } from "@session-bot/protocol";
import { MAX_ATTACHMENT_BYTES as SESSION_MAX_ATTACHMENT_BYTES, MAX_DISPLAY_NAME_LENGTH as SESSION_MAX_DISPLAY_NAME_LENGTH } from "@session-bot/session";
import { ConfigError } from "./errors.js";

/** A secret string that prints as `[redacted]` everywhere (logs, JSON, inspect, template strings). */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  /** The secret itself: pass it straight to the code that needs it, never to a logger. */
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "[redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
  [inspect.custom](): string {
    return "[redacted]";
  }
}

/**
 * Mainnet seed nodes (shared docs session-protocol.md §4.1). They present self-signed
 * certificates that Session clients pin: set SESSION_SEED_CERT_FILE, or the seed request fails
 * TLS verification against the system CAs.
 */
export const MAINNET_SEED_URLS: readonly string[] = Object.freeze([
  "https://seed1.getsession.org:4443/json_rpc",
  "https://seed2.getsession.org:4443/json_rpc",
  "https://seed3.getsession.org:4443/json_rpc",
]);

/** Where the bot's identity comes from. */
export type IdentitySource =
  | { readonly kind: "mnemonic"; readonly mnemonic: Secret }
  /** Development only: created on first start in `file` (mode 0600), reused afterwards. */
  | { readonly kind: "dev-file"; readonly file: string };

/** Which Session network to talk to. */
export type NetworkConfig =
  | {
      readonly kind: "devnet";
      readonly seedUrls: readonly string[];
      readonly fileServerUrl: string;
      readonly snodeScheme: "http" | "https";
      /** PEM of the devnet's self-signed certificate, pinned for the seed and the file server. */
      readonly seedCertificatePem: string | undefined;
    }
  | {
      readonly kind: "mainnet";
      readonly seedUrls: readonly string[] | undefined;
      readonly fileServerUrl: string | undefined;
      readonly snodeScheme: "http" | "https";
      readonly seedCertificatePem: string | undefined;
    };

export type NatsAuth =
  | { readonly kind: "none" }
  | { readonly kind: "creds"; readonly file: string }
  | { readonly kind: "userpass"; readonly user: string; readonly password: Secret }
  | { readonly kind: "token"; readonly token: Secret };

/** Fault hooks for crash tests; never set in production. */
export type FaultHook = "none" | "crash-after-publish";

export interface BrokerConfig {
  readonly bot: string;
  /** Inbound partition count P (same value as plugin-host's). */
  readonly partitions: number;
  readonly logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  readonly identity: IdentitySource;
  readonly network: NetworkConfig;
  readonly displayName: string | undefined;
  readonly autoAcceptRequests: boolean;
  readonly dataDir: string;
  readonly databaseFile: string;
  readonly nats: {
    readonly servers: readonly string[];
    readonly auth: NatsAuth;
    readonly name: string;
  };
  readonly http: { readonly host: string; readonly port: number };
  readonly streams: {
    readonly replicas: number;
    readonly inboundMaxAgeMs: number;
    readonly outboundMaxAgeMs: number;
    readonly deadMaxAgeMs: number;
    readonly duplicateWindowMs: number;
  };
  readonly outbound: {
    readonly maxDeliver: number;
    readonly ackWaitMs: number;
    readonly backoffMs: readonly number[];
    readonly concurrency: number;
  };
  /** `intervalMs` after an empty poll; `busyIntervalMs` (≤ intervalMs) after one that found messages. */
  readonly poll: { readonly intervalMs: number; readonly busyIntervalMs: number };
  readonly limits: {
    readonly ratePerMinute: number;
    readonly rateBurst: number;
    readonly maxTextLength: number;
    readonly maxAttachmentBytes: number;
  };
  readonly retention: {
    readonly messagesDays: number;
    readonly dedupDays: number;
    readonly deadLettersDays: number;
    readonly intervalMs: number;
  };
  readonly shutdownGraceMs: number;
  readonly fault: FaultHook;
}

/** Every variable the broker reads, with its default and meaning (the README table mirrors this). */
export const ENV_VARIABLES = [
  "SB_BOT",
  "SB_PARTITIONS",
  "LOG_LEVEL",
  "SESSION_MNEMONIC",
  "SESSION_MNEMONIC_FILE",
  "BROKER_DEV_IDENTITY",
  "SESSION_NETWORK",
  "SESSION_SEED_URLS",
  "SESSION_FILE_SERVER_URL",
  "SESSION_SNODE_SCHEME",
  "SESSION_SEED_CERT_FILE",
  "BROKER_DISPLAY_NAME",
  "BROKER_AUTO_ACCEPT_REQUESTS",
  "BROKER_DATA_DIR",
  "NATS_URL",
  "NATS_CREDS_FILE",
  "NATS_USER",
  "NATS_PASSWORD",
  "NATS_PASSWORD_FILE",
  "NATS_TOKEN",
  "NATS_TOKEN_FILE",
  "BROKER_HTTP_HOST",
  "BROKER_HTTP_PORT",
  "BROKER_STREAM_REPLICAS",
  "BROKER_INBOUND_MAX_AGE_S",
  "BROKER_OUTBOUND_MAX_AGE_S",
  "BROKER_DEAD_MAX_AGE_S",
  "BROKER_DUPLICATE_WINDOW_S",
  "BROKER_OUTBOUND_MAX_DELIVER",
  "BROKER_OUTBOUND_ACK_WAIT_MS",
  "BROKER_OUTBOUND_BACKOFF_MS",
  "BROKER_OUTBOUND_CONCURRENCY",
  "BROKER_POLL_INTERVAL_MS",
  "BROKER_POLL_BUSY_INTERVAL_MS",
  "BROKER_RATE_PER_MINUTE",
  "BROKER_RATE_BURST",
  "BROKER_MAX_TEXT_LENGTH",
  "BROKER_MAX_ATTACHMENT_BYTES",
  "BROKER_RETENTION_MESSAGES_DAYS",
  "BROKER_RETENTION_DEDUP_DAYS",
  "BROKER_RETENTION_DEAD_LETTERS_DAYS",
  "BROKER_RETENTION_INTERVAL_MS",
  "BROKER_SHUTDOWN_GRACE_MS",
  "BROKER_FAULT",
] as const;

const BOT_RE = new RegExp(BOT_NAME_PATTERN);
const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
const FAULTS: readonly FaultHook[] = ["none", "crash-after-publish"];
const DAY_S = 86_400;
/** Session swarms keep a message 14 days: a dedup key must outlive the message it guards. */
const MIN_DEDUP_DAYS = 14;
/** Largest attachment both the bus contract and the Session client accept. */
const ATTACHMENT_MAX_BYTES = Math.min(MAX_ATTACHMENT_BYTES, SESSION_MAX_ATTACHMENT_BYTES);
/** Longest display name both the bus contract and the Session client accept. */
const DISPLAY_NAME_MAX = Math.min(MAX_DISPLAY_NAME_LENGTH, SESSION_MAX_DISPLAY_NAME_LENGTH);

export interface LoadConfigOptions {
  /** Reads `*_FILE` variables (tests pass their own). */
  readFile?: (path: string) => string;
}

/**
 * Parses the broker's environment. Throws a {@link ConfigError} listing every problem by variable
 * name; secret values never appear in the message.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, opts: LoadConfigOptions = {}): BrokerConfig {
  const readFile = opts.readFile ?? ((p: string) => readFileSync(p, "utf8"));
  const issues: string[] = [];
  const get = (name: (typeof ENV_VARIABLES)[number]): string | undefined => {
    const v = env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  };

  const int = (name: (typeof ENV_VARIABLES)[number], def: number, min: number, max: number): number => {
    const raw = get(name);
    if (raw === undefined) return def;
    if (!/^-?\d+$/.test(raw)) {
      issues.push(`${name} must be an integer`);
      return def;
    }
    const n = Number(raw);
    if (n < min || n > max) {
      issues.push(`${name} must be between ${min} and ${max}`);
      return def;
    }
    return n;
  };
  const bool = (name: (typeof ENV_VARIABLES)[number], def: boolean): boolean => {
    const raw = get(name)?.toLowerCase();
    if (raw === undefined) return def;
    if (["1", "true", "yes", "on"].includes(raw)) return true;
    if (["0", "false", "no", "off"].includes(raw)) return false;
    issues.push(`${name} must be a boolean (1/0, true/false, yes/no, on/off)`);
    return def;
  };
  const url = (name: (typeof ENV_VARIABLES)[number], raw: string, protocols: readonly string[]): string | undefined => {
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol)) {
        issues.push(`${name} must use ${protocols.join(" or ")}`);
        return undefined;
      }
      return raw.replace(/\/+$/, "");
    } catch {
      issues.push(`${name} must be a URL`);
      return undefined;
    }
  };
  // A secret from VAR or VAR_FILE (exactly one), with errors that never quote the content.
  const secret = (name: (typeof ENV_VARIABLES)[number], fileName: (typeof ENV_VARIABLES)[number]): Secret | undefined => {
    const direct = env[name];
    const file = get(fileName);
    if (direct !== undefined && direct.trim() !== "" && file !== undefined) {
      issues.push(`set only one of ${name} and ${fileName}`);
      return undefined;
    }
    if (file !== undefined) {
      let content: string;
      try {
        content = readFile(file);
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        issues.push(`${fileName} could not be read${typeof code === "string" ? ` (${code})` : ""}`);
        return undefined;
      }
      const value = content.trim();
      if (value === "") {
        issues.push(`${fileName} points to an empty file`);
        return undefined;
      }
      return new Secret(value);
    }
    if (direct !== undefined && direct.trim() !== "") return new Secret(direct.trim());
    return undefined;
  };

  const bot = get("SB_BOT") ?? "bot";
  if (!BOT_RE.test(bot)) issues.push("SB_BOT must match [a-z0-9][a-z0-9_-]{0,31}");

  const logLevelRaw = get("LOG_LEVEL") ?? "info";
  const logLevel = (LOG_LEVELS as readonly string[]).includes(logLevelRaw) ? (logLevelRaw as BrokerConfig["logLevel"]) : "info";
  if (logLevel !== logLevelRaw) issues.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);

  const dataDir = resolve(get("BROKER_DATA_DIR") ?? "./data");

  // Identity: a mnemonic (direct or file), or an explicit development switch.
  const mnemonic = secret("SESSION_MNEMONIC", "SESSION_MNEMONIC_FILE");
  const devIdentity = bool("BROKER_DEV_IDENTITY", false);
  let identity: IdentitySource = { kind: "dev-file", file: resolve(dataDir, "dev-identity.mnemonic") };
  if (mnemonic !== undefined) {
    const words = mnemonic.reveal().toLowerCase().split(/\s+/);
    if (words.length !== 13 || !words.every((w) => /^[a-z]+$/.test(w))) {
      issues.push("SESSION_MNEMONIC must be 13 words of letters (the value is not shown)");
    }
    if (devIdentity) issues.push("BROKER_DEV_IDENTITY cannot be combined with a mnemonic");
    identity = { kind: "mnemonic", mnemonic };
  } else if (!devIdentity && get("SESSION_MNEMONIC") === undefined && get("SESSION_MNEMONIC_FILE") === undefined) {
    issues.push("set SESSION_MNEMONIC or SESSION_MNEMONIC_FILE (or BROKER_DEV_IDENTITY=1 to create a development identity)");
  }

  // Network.
  const networkKind = get("SESSION_NETWORK") ?? "mainnet";
  const seedRaw = get("SESSION_SEED_URLS");
  const seedUrls = seedRaw
    ?.split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => url("SESSION_SEED_URLS", s, ["http:", "https:"]))
    .filter((s): s is string => s !== undefined);
  const fsRaw = get("SESSION_FILE_SERVER_URL");
  const fileServerUrl = fsRaw === undefined ? undefined : url("SESSION_FILE_SERVER_URL", fsRaw, ["http:", "https:"]);
  const schemeRaw = get("SESSION_SNODE_SCHEME") ?? (networkKind === "devnet" ? "http" : "https");
  const snodeScheme = schemeRaw === "http" ? "http" : "https";
  if (schemeRaw !== "http" && schemeRaw !== "https") issues.push("SESSION_SNODE_SCHEME must be http or https");
  const certFile = get("SESSION_SEED_CERT_FILE");
  let seedCertificatePem: string | undefined;
  if (certFile !== undefined) {
    try {
      seedCertificatePem = readFile(certFile);
      if (!seedCertificatePem.includes("BEGIN CERTIFICATE")) issues.push("SESSION_SEED_CERT_FILE is not a PEM certificate");
    } catch {
      issues.push("SESSION_SEED_CERT_FILE could not be read");
    }
  }
  let network: NetworkConfig;
  if (networkKind === "devnet") {
    if (seedRaw === undefined || !seedUrls || seedUrls.length === 0) issues.push("SESSION_SEED_URLS is required when SESSION_NETWORK=devnet");
    if (fsRaw === undefined) issues.push("SESSION_FILE_SERVER_URL is required when SESSION_NETWORK=devnet");
    network = { kind: "devnet", seedUrls: seedUrls ?? [], fileServerUrl: fileServerUrl ?? "", snodeScheme, seedCertificatePem };
  } else {
    if (networkKind !== "mainnet") issues.push("SESSION_NETWORK must be devnet or mainnet");
    network = { kind: "mainnet", seedUrls, fileServerUrl, snodeScheme, seedCertificatePem };
  }

  const displayName = get("BROKER_DISPLAY_NAME");
  if (displayName !== undefined && [...displayName].length > DISPLAY_NAME_MAX) issues.push(`BROKER_DISPLAY_NAME must be at most ${DISPLAY_NAME_MAX} characters`);

  // NATS.
  const servers = (get("NATS_URL") ?? "nats://127.0.0.1:4222")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const s of servers) url("NATS_URL", s, ["nats:", "tls:", "ws:", "wss:"]);
  const credsFile = get("NATS_CREDS_FILE");
  const user = get("NATS_USER");
  const password = secret("NATS_PASSWORD", "NATS_PASSWORD_FILE");
  const token = secret("NATS_TOKEN", "NATS_TOKEN_FILE");
  let auth: NatsAuth = { kind: "none" };
  const methods = [credsFile !== undefined, user !== undefined || password !== undefined, token !== undefined].filter(Boolean).length;
  if (methods > 1) issues.push("choose one NATS authentication: NATS_CREDS_FILE, NATS_USER+NATS_PASSWORD, or NATS_TOKEN");
  else if (credsFile !== undefined) auth = { kind: "creds", file: resolve(credsFile) };
  else if (user !== undefined || password !== undefined) {
    if (user === undefined || password === undefined) issues.push("NATS_USER and NATS_PASSWORD (or NATS_PASSWORD_FILE) go together");
    else auth = { kind: "userpass", user, password };
  } else if (token !== undefined) auth = { kind: "token", token };

  const http = { host: get("BROKER_HTTP_HOST") ?? "127.0.0.1", port: int("BROKER_HTTP_PORT", 9101, 0, 65535) };

  const streams = {
    replicas: int("BROKER_STREAM_REPLICAS", 1, 1, 5),
    inboundMaxAgeMs: int("BROKER_INBOUND_MAX_AGE_S", 7 * DAY_S, 60, 365 * DAY_S) * 1000,
    outboundMaxAgeMs: int("BROKER_OUTBOUND_MAX_AGE_S", DAY_S, 60, 365 * DAY_S) * 1000,
    deadMaxAgeMs: int("BROKER_DEAD_MAX_AGE_S", 30 * DAY_S, 60, 365 * DAY_S) * 1000,
    duplicateWindowMs: int("BROKER_DUPLICATE_WINDOW_S", 120, 1, 7 * DAY_S) * 1000,
  };
  if (streams.duplicateWindowMs > Math.min(streams.inboundMaxAgeMs, streams.outboundMaxAgeMs)) {
    issues.push("BROKER_DUPLICATE_WINDOW_S must not exceed the inbound/outbound max age");
  }

  const backoffRaw = get("BROKER_OUTBOUND_BACKOFF_MS") ?? "1000,5000,30000";
  const backoffMs = backoffRaw.split(",").map((s) => Number(s.trim()));
  if (backoffMs.length === 0 || backoffMs.some((n) => !Number.isInteger(n) || n < 1 || n > 3_600_000)) {
    issues.push("BROKER_OUTBOUND_BACKOFF_MS must be a comma-separated list of milliseconds (1..3600000)");
  }
  const outbound = {
    maxDeliver: int("BROKER_OUTBOUND_MAX_DELIVER", 5, 1, 1000),
    ackWaitMs: int("BROKER_OUTBOUND_ACK_WAIT_MS", 30_000, 1000, 3_600_000),
    backoffMs,
    concurrency: int("BROKER_OUTBOUND_CONCURRENCY", 16, 1, 64),
  };

  const limits = {
    ratePerMinute: int("BROKER_RATE_PER_MINUTE", 30, 1, 100_000),
    rateBurst: int("BROKER_RATE_BURST", 10, 1, 100_000),
    maxTextLength: int("BROKER_MAX_TEXT_LENGTH", MAX_TEXT_LENGTH, 1, MAX_TEXT_LENGTH),
    maxAttachmentBytes: int("BROKER_MAX_ATTACHMENT_BYTES", ATTACHMENT_MAX_BYTES, 1, ATTACHMENT_MAX_BYTES),
  };

  const retention = {
    messagesDays: int("BROKER_RETENTION_MESSAGES_DAYS", 30, 1, 3650),
    dedupDays: int("BROKER_RETENTION_DEDUP_DAYS", 15, MIN_DEDUP_DAYS, 3650),
    deadLettersDays: int("BROKER_RETENTION_DEAD_LETTERS_DAYS", 30, 1, 3650),
    intervalMs: int("BROKER_RETENTION_INTERVAL_MS", 60 * 60 * 1000, 1000, 7 * DAY_S * 1000),
  };

  const faultRaw = get("BROKER_FAULT") ?? "none";
  const fault = (FAULTS as readonly string[]).includes(faultRaw) ? (faultRaw as FaultHook) : "none";
  if (fault !== faultRaw) issues.push(`BROKER_FAULT must be one of ${FAULTS.join(", ")}`);

  const config: BrokerConfig = {
    bot,
    partitions: int("SB_PARTITIONS", DEFAULT_PARTITIONS, 1, MAX_PARTITIONS),
    logLevel,
    identity,
    network,
    displayName,
    autoAcceptRequests: bool("BROKER_AUTO_ACCEPT_REQUESTS", true),
    dataDir,
    databaseFile: resolve(dataDir, "broker.sqlite"),
    nats: { servers, auth, name: `sb-broker-${bot}` },
    http,
    streams,
    outbound,
    poll: (() => {
      const intervalMs = int("BROKER_POLL_INTERVAL_MS", 2000, 50, 600_000);
      return { intervalMs, busyIntervalMs: Math.min(intervalMs, int("BROKER_POLL_BUSY_INTERVAL_MS", 100, 0, 600_000)) };
    })(),
    limits,
    retention,
    shutdownGraceMs: int("BROKER_SHUTDOWN_GRACE_MS", 10_000, 0, 600_000),
    fault,
  };
  if (issues.length > 0) throw new ConfigError(issues);
  return deepFreeze(config);
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === "object" && !(o instanceof Secret) && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as object)) deepFreeze(v);
  }
  return o;
}
