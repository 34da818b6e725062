import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ENV_VARIABLES, loadConfig, Secret } from "./config.js";

const MNEMONIC = "puffin luxury annoyed rustled memoir faxed smidgen puddle kiwi nylon utopia zinger kiwi";
const base = { SESSION_MNEMONIC: MNEMONIC };

function issuesOf(env: Record<string, string>, files: Record<string, string> = {}): string[] {
  try {
    loadConfig(env, { readFile: (p) => read(files, p) });
  } catch (err) {
    const e = err as { code: string; issues: string[]; message: string };
    expect(e.code).toBe("BROKER_CONFIG_INVALID");
    expect(e.message).not.toContain("puffin");
    return e.issues;
  }
  return [];
}
function read(files: Record<string, string>, p: string): string {
  const v = files[p];
  if (v === undefined) throw Object.assign(new Error(`ENOENT: ${p}`), { code: "ENOENT" });
  return v;
}

describe("loadConfig", () => {
  it("has documented defaults", () => {
    const c = loadConfig(base);
    expect(c.bot).toBe("bot");
    expect(c.logLevel).toBe("info");
    expect(c.identity.kind).toBe("mnemonic");
    expect(c.network).toEqual({ kind: "mainnet", seedUrls: undefined, fileServerUrl: undefined, snodeScheme: "https", seedCertificatePem: undefined });
    expect(c.partitions).toBe(16);
    expect(c.limits.maxTextLength).toBe(2000);
    expect(c.limits.maxAttachmentBytes).toBe(9_000_000);
    expect(c.nats).toEqual({ servers: ["nats://127.0.0.1:4222"], auth: { kind: "none" }, name: "sb-broker-bot" });
    expect(c.http).toEqual({ host: "127.0.0.1", port: 9101 });
    expect(c.autoAcceptRequests).toBe(true);
    expect(c.streams.replicas).toBe(1);
    expect(c.outbound.backoffMs).toEqual([1000, 5000, 30000]);
    expect(c.retention.dedupDays).toBeGreaterThanOrEqual(14);
    expect(c.fault).toBe("none");
    expect(c.databaseFile.endsWith("/data/broker.sqlite")).toBe(true);
    expect(Object.isFrozen(c.limits)).toBe(true);
  });

  it("reads every variable", () => {
    const c = loadConfig({
      SB_BOT: "helper-1",
      SB_PARTITIONS: "4",
      SESSION_SNODE_SCHEME: "https",
      SESSION_SEED_CERT_FILE: "/run/cert.pem",
      LOG_LEVEL: "debug",
      SESSION_MNEMONIC: ` ${MNEMONIC}\n`,
      SESSION_NETWORK: "devnet",
      SESSION_SEED_URLS: "http://127.0.0.1:1/, http://127.0.0.1:2",
      SESSION_FILE_SERVER_URL: "http://127.0.0.1:3",
      BROKER_DISPLAY_NAME: "Helper",
      BROKER_AUTO_ACCEPT_REQUESTS: "no",
      BROKER_DATA_DIR: "/tmp/x",
      NATS_URL: "nats://a:4222,nats://b:4222",
      NATS_USER: "u",
      NATS_PASSWORD: "pw",
      BROKER_HTTP_HOST: "0.0.0.0",
      BROKER_HTTP_PORT: "0",
      BROKER_STREAM_REPLICAS: "3",
      BROKER_INBOUND_MAX_AGE_S: "3600",
      BROKER_OUTBOUND_MAX_AGE_S: "7200",
      BROKER_DEAD_MAX_AGE_S: "86400",
      BROKER_DUPLICATE_WINDOW_S: "60",
      BROKER_OUTBOUND_MAX_DELIVER: "3",
      BROKER_OUTBOUND_ACK_WAIT_MS: "5000",
      BROKER_OUTBOUND_BACKOFF_MS: "100, 200",
      BROKER_OUTBOUND_CONCURRENCY: "2",
      BROKER_POLL_INTERVAL_MS: "250",
      BROKER_POLL_BUSY_INTERVAL_MS: "500",
      BROKER_RATE_PER_MINUTE: "5",
      BROKER_RATE_BURST: "2",
      BROKER_MAX_TEXT_LENGTH: "100",
      BROKER_MAX_ATTACHMENT_BYTES: "1000",
      BROKER_RETENTION_MESSAGES_DAYS: "2",
      BROKER_RETENTION_DEDUP_DAYS: "20",
      BROKER_RETENTION_DEAD_LETTERS_DAYS: "3",
      BROKER_RETENTION_INTERVAL_MS: "60000",
      BROKER_SHUTDOWN_GRACE_MS: "1500",
      BROKER_FAULT: "crash-after-publish",
    }, { readFile: (p) => read({ "/run/cert.pem": "-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n" }, p) });
    expect(c.bot).toBe("helper-1");
    expect(c.logLevel).toBe("debug");
    expect(c.identity.kind === "mnemonic" && c.identity.mnemonic.reveal()).toBe(MNEMONIC);
    expect(c.partitions).toBe(4);
    expect(c.network).toMatchObject({ kind: "devnet", seedUrls: ["http://127.0.0.1:1", "http://127.0.0.1:2"], fileServerUrl: "http://127.0.0.1:3", snodeScheme: "https" });
    expect(c.network.seedCertificatePem).toContain("BEGIN CERTIFICATE");
    expect(c.displayName).toBe("Helper");
    expect(c.autoAcceptRequests).toBe(false);
    expect(c.dataDir).toBe("/tmp/x");
    expect(c.databaseFile).toBe("/tmp/x/broker.sqlite");
    expect(c.nats.servers).toEqual(["nats://a:4222", "nats://b:4222"]);
    expect(c.nats.auth.kind === "userpass" && [c.nats.auth.user, c.nats.auth.password.reveal()]).toEqual(["u", "pw"]);
    expect(c.http).toEqual({ host: "0.0.0.0", port: 0 });
    expect(c.streams).toEqual({ replicas: 3, inboundMaxAgeMs: 3_600_000, outboundMaxAgeMs: 7_200_000, deadMaxAgeMs: 86_400_000, duplicateWindowMs: 60_000 });
    expect(c.outbound).toEqual({ maxDeliver: 3, ackWaitMs: 5000, backoffMs: [100, 200], concurrency: 2 });
    // The busy interval is at most the interval.
    expect(c.poll).toEqual({ intervalMs: 250, busyIntervalMs: 250 });
    expect(c.limits).toEqual({ ratePerMinute: 5, rateBurst: 2, maxTextLength: 100, maxAttachmentBytes: 1000 });
    expect(c.retention).toEqual({ messagesDays: 2, dedupDays: 20, deadLettersDays: 3, intervalMs: 60_000 });
    expect(c.shutdownGraceMs).toBe(1500);
    expect(c.fault).toBe("crash-after-publish");
  });

  it("documents every variable it reads in ENV_VARIABLES and the README", async () => {
    const { readFileSync } = await import("node:fs");
    const src = readFileSync(new URL("./config.ts", import.meta.url), "utf8");
    const read = new Set([...src.matchAll(/(?:get|int|bool|secret)\("([A-Z_]+)"/g)].map((m) => m[1]));
    for (const name of read) expect(ENV_VARIABLES).toContain(name);
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const example = readFileSync(new URL("../.env.example", import.meta.url), "utf8");
    for (const name of ENV_VARIABLES) {
      expect(readme, name).toContain(`\`${name}\``);
      expect(example, name).toContain(name);
    }
  });

  it("reads secrets from *_FILE variables", () => {
    const files = { "/run/m": `${MNEMONIC}\n`, "/run/t": "tok\n", "/run/p": "pw" };
    const c = loadConfig({ SESSION_MNEMONIC_FILE: "/run/m", NATS_TOKEN_FILE: "/run/t" }, { readFile: (p) => read(files, p) });
    expect(c.identity.kind === "mnemonic" && c.identity.mnemonic.reveal()).toBe(MNEMONIC);
    expect(c.nats.auth.kind === "token" && c.nats.auth.token.reveal()).toBe("tok");
    const d = loadConfig({ ...base, NATS_USER: "u", NATS_PASSWORD_FILE: "/run/p" }, { readFile: (p) => read(files, p) });
    expect(d.nats.auth.kind === "userpass" && d.nats.auth.password.reveal()).toBe("pw");
    const e = loadConfig({ ...base, NATS_CREDS_FILE: "/run/x.creds" });
    expect(e.nats.auth).toEqual({ kind: "creds", file: "/run/x.creds" });
  });

  it("creates no identity unless told to: the development switch", () => {
    expect(issuesOf({})).toEqual([expect.stringContaining("SESSION_MNEMONIC")]);
    const c = loadConfig({ BROKER_DEV_IDENTITY: "1", BROKER_DATA_DIR: "/tmp/d" });
    expect(c.identity).toEqual({ kind: "dev-file", file: "/tmp/d/dev-identity.mnemonic" });
    expect(issuesOf({ ...base, BROKER_DEV_IDENTITY: "1" })).toEqual([expect.stringContaining("BROKER_DEV_IDENTITY")]);
  });

  it("never puts a secret in an error or a log line", () => {
    const bad = "puffin luxury annoyed secretword";
    const issues = issuesOf({ SESSION_MNEMONIC: bad });
    expect(issues.join()).not.toContain("secretword");
    expect(issuesOf({ SESSION_MNEMONIC_FILE: "/run/m" }, { "/run/m": "puffin only" }).join()).not.toContain("puffin");
    expect(issuesOf({ SESSION_MNEMONIC_FILE: "/missing" })).toEqual([expect.stringContaining("could not be read (ENOENT)")]);
    expect(issuesOf({ SESSION_MNEMONIC_FILE: "/run/e" }, { "/run/e": "  \n" })).toEqual([expect.stringContaining("empty file")]);
    expect(issuesOf({ ...base, SESSION_MNEMONIC_FILE: "/run/m" }, { "/run/m": MNEMONIC })).toEqual([expect.stringContaining("only one")]);
    const c = loadConfig({ ...base, NATS_TOKEN: "s3cr3t-token" });
    const printed = [JSON.stringify(c), inspect(c, { depth: 10 }), `${String(c.identity.kind === "mnemonic" && c.identity.mnemonic)}`].join("\n");
    expect(printed).not.toContain("puffin");
    expect(printed).not.toContain("s3cr3t-token");
    expect(printed).toContain("[redacted]");
    expect(new Secret("x").reveal()).toBe("x");
  });

  it.each([
    [{ SB_BOT: "Bad Name" }, "SB_BOT"],
    [{ LOG_LEVEL: "loud" }, "LOG_LEVEL"],
    [{ SESSION_NETWORK: "testnet" }, "SESSION_NETWORK"],
    [{ SESSION_NETWORK: "devnet" }, "SESSION_SEED_URLS"],
    [{ SESSION_NETWORK: "devnet", SESSION_SEED_URLS: "http://a" }, "SESSION_FILE_SERVER_URL"],
    [{ SESSION_SEED_URLS: "ftp://a" }, "SESSION_SEED_URLS"],
    [{ SESSION_FILE_SERVER_URL: "not a url" }, "SESSION_FILE_SERVER_URL"],
    [{ BROKER_DISPLAY_NAME: "x".repeat(101) }, "BROKER_DISPLAY_NAME"],
    [{ SB_PARTITIONS: "0" }, "SB_PARTITIONS"],
    [{ SB_PARTITIONS: "1025" }, "SB_PARTITIONS"],
    [{ SESSION_SNODE_SCHEME: "ftp" }, "SESSION_SNODE_SCHEME"],
    [{ SESSION_SEED_CERT_FILE: "/nope.pem" }, "SESSION_SEED_CERT_FILE"],
    [{ BROKER_AUTO_ACCEPT_REQUESTS: "maybe" }, "BROKER_AUTO_ACCEPT_REQUESTS"],
    [{ NATS_URL: "http://x" }, "NATS_URL"],
    [{ NATS_USER: "u" }, "NATS_USER"],
    [{ NATS_TOKEN: "t", NATS_CREDS_FILE: "/c" }, "one NATS authentication"],
    [{ BROKER_HTTP_PORT: "70000" }, "BROKER_HTTP_PORT"],
    [{ BROKER_HTTP_PORT: "12ab" }, "BROKER_HTTP_PORT"],
    [{ BROKER_STREAM_REPLICAS: "0" }, "BROKER_STREAM_REPLICAS"],
    [{ BROKER_INBOUND_MAX_AGE_S: "1" }, "BROKER_INBOUND_MAX_AGE_S"],
    [{ BROKER_OUTBOUND_MAX_AGE_S: "x" }, "BROKER_OUTBOUND_MAX_AGE_S"],
    [{ BROKER_DEAD_MAX_AGE_S: "-5" }, "BROKER_DEAD_MAX_AGE_S"],
    [{ BROKER_DUPLICATE_WINDOW_S: "0" }, "BROKER_DUPLICATE_WINDOW_S"],
    [{ BROKER_DUPLICATE_WINDOW_S: "86400", BROKER_INBOUND_MAX_AGE_S: "3600" }, "BROKER_DUPLICATE_WINDOW_S"],
    [{ BROKER_OUTBOUND_MAX_DELIVER: "0" }, "BROKER_OUTBOUND_MAX_DELIVER"],
    [{ BROKER_OUTBOUND_ACK_WAIT_MS: "10" }, "BROKER_OUTBOUND_ACK_WAIT_MS"],
    [{ BROKER_OUTBOUND_BACKOFF_MS: "1,x" }, "BROKER_OUTBOUND_BACKOFF_MS"],
    [{ BROKER_OUTBOUND_CONCURRENCY: "100" }, "BROKER_OUTBOUND_CONCURRENCY"],
    [{ BROKER_POLL_INTERVAL_MS: "1" }, "BROKER_POLL_INTERVAL_MS"],
    [{ BROKER_POLL_BUSY_INTERVAL_MS: "-1" }, "BROKER_POLL_BUSY_INTERVAL_MS"],
    [{ BROKER_RATE_PER_MINUTE: "0" }, "BROKER_RATE_PER_MINUTE"],
    [{ BROKER_RATE_BURST: "0" }, "BROKER_RATE_BURST"],
    [{ BROKER_MAX_TEXT_LENGTH: "0" }, "BROKER_MAX_TEXT_LENGTH"],
    [{ BROKER_MAX_ATTACHMENT_BYTES: "9000001" }, "BROKER_MAX_ATTACHMENT_BYTES"],
    [{ BROKER_MAX_TEXT_LENGTH: "2001" }, "BROKER_MAX_TEXT_LENGTH"],
    [{ BROKER_RETENTION_MESSAGES_DAYS: "0" }, "BROKER_RETENTION_MESSAGES_DAYS"],
    [{ BROKER_RETENTION_DEDUP_DAYS: "3" }, "BROKER_RETENTION_DEDUP_DAYS"],
    [{ BROKER_RETENTION_DEAD_LETTERS_DAYS: "0" }, "BROKER_RETENTION_DEAD_LETTERS_DAYS"],
    [{ BROKER_RETENTION_INTERVAL_MS: "5" }, "BROKER_RETENTION_INTERVAL_MS"],
    [{ BROKER_SHUTDOWN_GRACE_MS: "-1" }, "BROKER_SHUTDOWN_GRACE_MS"],
    [{ BROKER_FAULT: "explode" }, "BROKER_FAULT"],
  ])("rejects %o naming %s", (env, name) => {
    const issues = issuesOf({ ...base, ...env });
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.join("; ")).toContain(name);
  });

  it("reports every problem at once", () => {
    expect(issuesOf({ SB_BOT: "!", BROKER_HTTP_PORT: "x", LOG_LEVEL: "y" })).toHaveLength(4);
  });
});
