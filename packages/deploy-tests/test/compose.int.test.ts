// docker-compose.yaml through `docker compose config` (compose's own validation), with an .env
// made by deploy/init-env.sh exactly as an operator's first run makes it.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { composeConfig, repoRoot, type ComposeConfig } from "../src/index.js";

const root = repoRoot();
let dir: string;
let envFile: string;
let env: Record<string, string>;
let prod: ComposeConfig;
let dev: ComposeConfig;
let chat: ComposeConfig;
const SECRET_KEYS = ["NATS_BROKER_PASSWORD", "NATS_PLUGIN_HOST_PASSWORD", "NATS_GATEWAY_PASSWORD"];
let secretsDir: string;

function initEnv(): void {
  execFileSync("bash", [join(root, "deploy", "init-env.sh"), envFile], { stdio: "ignore", env: { ...process.env, SB_SECRETS_DIR: secretsDir } });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-compose-"));
  envFile = join(dir, ".env");
  secretsDir = join(dir, "secrets");
  initEnv();
  env = Object.fromEntries(
    readFileSync(envFile, "utf8")
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  prod = composeConfig(envFile);
  dev = composeConfig(envFile, ["dev"]);
  chat = composeConfig(envFile, ["dev", "chat"]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("deploy/init-env.sh", () => {
  it("fills every NATS password with a fresh random value, in a file only its owner can read", () => {
    // letters first: nats-server parses the value as a config token (see nats-permissions test)
    for (const k of SECRET_KEYS) expect(env[k], k).toMatch(/^sb[0-9a-f]{64}$/);
    expect(new Set(SECRET_KEYS.map((k) => env[k])).size).toBe(SECRET_KEYS.length);
    expect(statSync(envFile).mode & 0o077).toBe(0);
  });

  it("creates the secret files: an admin token, an empty mnemonic, in a closed directory", () => {
    expect(readFileSync(join(secretsDir, "gateway_admin_tokens"), "utf8")).toMatch(/^[0-9a-f]{64}$/);
    expect(readFileSync(join(secretsDir, "session_mnemonic"), "utf8")).toBe("");
    expect(statSync(secretsDir).mode & 0o077).toBe(0);
    // readable by the containers' uid 1000 through the bind mount
    expect(statSync(join(secretsDir, "gateway_admin_tokens")).mode & 0o004).toBe(0o004);
  });

  it("keeps values that are already set", () => {
    const before = readFileSync(envFile, "utf8");
    const token = readFileSync(join(secretsDir, "gateway_admin_tokens"), "utf8");
    initEnv();
    expect(readFileSync(envFile, "utf8")).toBe(before);
    expect(readFileSync(join(secretsDir, "gateway_admin_tokens"), "utf8")).toBe(token);
  });

  it(".env.example holds no secret values", () => {
    const example = readFileSync(join(root, ".env.example"), "utf8");
    for (const k of SECRET_KEYS) expect(example).toMatch(new RegExp(`^${k}=$`, "m"));
  });
});

describe("docker-compose.yaml", () => {
  it("runs NATS, broker, plugin-host and gateway by default, and the devnet only with --profile dev", () => {
    expect(Object.keys(prod.services).sort()).toEqual(["broker", "broker-net", "gateway", "nats", "plugin-host"]);
    expect(Object.keys(dev.services).sort()).toEqual(["broker", "broker-net", "devnet", "gateway", "nats", "plugin-host"]);
    // the terminal client is run on demand (`docker compose run --rm chat`), never started by `up`
    expect(Object.keys(chat.services).sort()).toEqual(["broker", "broker-net", "chat", "devnet", "gateway", "nats", "plugin-host"]);
  });

  it("refuses to render without the secrets (no silent empty password)", () => {
    expect(() => composeConfig("/dev/null")).toThrow(/NATS_(BROKER|PLUGIN_HOST|GATEWAY)_PASSWORD is missing a value/);
  });

  it("gives each service only its own NATS password, and the mnemonic and admin tokens as files", () => {
    const natsPassword = (s: string) => dev.services[s]!.environment!.NATS_PASSWORD;
    expect(natsPassword("broker")).toBe(env.NATS_BROKER_PASSWORD);
    expect(natsPassword("plugin-host")).toBe(env.NATS_PLUGIN_HOST_PASSWORD);
    expect(natsPassword("gateway")).toBe(env.NATS_GATEWAY_PASSWORD);
    for (const [name, svc] of Object.entries(dev.services)) {
      const values = Object.values(svc.environment ?? {});
      const own = name === "nats" ? SECRET_KEYS : SECRET_KEYS.filter((k) => env[k] === svc.environment?.NATS_PASSWORD);
      for (const k of SECRET_KEYS.filter((x) => !own.includes(x))) expect(values, `${name} must not get ${k}`).not.toContain(env[k]);
    }
    const secrets = (s: string) => (dev.services[s]!.secrets ?? []).map((x) => x.source).sort();
    expect(secrets("broker")).toEqual(["session_mnemonic"]);
    expect(secrets("plugin-host")).toEqual([]);
    expect(secrets("gateway")).toEqual(["gateway_admin_tokens"]);
    expect(dev.secrets).toEqual({
      gateway_admin_tokens: expect.objectContaining({ file: join(root, "deploy", "secrets", "gateway_admin_tokens") }),
      session_mnemonic: expect.objectContaining({ file: join(root, "deploy", "secrets", "session_mnemonic") }),
    });
    expect(dev.services.gateway!.environment!.GATEWAY_ADMIN_TOKENS_FILE).toBe("/run/secrets/gateway_admin_tokens");
  });

  it("NATS has JetStream on a volume and the shared permission file", () => {
    const nats = prod.services.nats!;
    expect(nats.volumes).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: "volume", source: "nats-data", target: "/data" }),
        expect.objectContaining({ type: "bind", source: join(root, "deploy", "nats"), target: "/etc/nats", read_only: true }),
      ]),
    );
    expect(readFileSync(join(root, "deploy", "nats", "nats.conf"), "utf8")).toMatch(/jetstream \{\s*store_dir: \/data/);
  });

  it("the broker keeps its SQLite database on a volume", () => {
    expect(prod.services.broker!.volumes).toEqual([expect.objectContaining({ type: "volume", source: "broker-data", target: "/data" })]);
    expect(prod.services.broker!.environment!.BROKER_DATA_DIR).toBe("/data");
  });

  it("plugin-host is scalable: 2 replicas, no fixed name, no host port", () => {
    const ph = prod.services["plugin-host"]!;
    expect(ph.deploy?.replicas).toBe(2);
    expect(ph.container_name).toBeUndefined();
    expect(ph.ports ?? []).toEqual([]);
  });

  it("only the gateway publishes a port, on loopback by default", () => {
    const published = Object.entries(dev.services).filter(([, s]) => (s.ports ?? []).length > 0);
    expect(published.map(([n]) => n)).toEqual(["gateway"]);
    expect(dev.services.gateway!.ports).toEqual([expect.objectContaining({ target: 8080, published: "8080", host_ip: "127.0.0.1" })]);
  });

  it("starts in dependency order, waiting for the broker's health", () => {
    expect(prod.services["plugin-host"]!.depends_on).toMatchObject({ nats: { condition: "service_started" }, broker: { condition: "service_healthy" } });
    expect(prod.services.gateway!.depends_on).toMatchObject({ broker: { condition: "service_healthy" } });
    expect(chat.services.chat!.depends_on).toMatchObject({ devnet: { condition: "service_healthy" } });
  });

  it("every long-running service restarts, runs read-only and without capabilities", () => {
    for (const name of ["nats", "broker-net", "broker", "plugin-host", "gateway", "devnet"]) {
      const s = dev.services[name]!;
      expect(s.restart, name).toBe("unless-stopped");
      expect(s.read_only, name).toBe(true);
    }
  });

  it("the devnet (dev profile) lives in the broker's network namespace, and .env.example selects it", () => {
    // both join broker-net, so either can restart without cutting the other off
    expect(dev.services.broker!.network_mode).toBe("service:broker-net");
    expect(dev.services.devnet!.network_mode).toBe("service:broker-net");
    expect(chat.services.chat!.network_mode).toBe("service:broker-net");
    expect(dev.services.broker!.environment).toMatchObject({
      SESSION_NETWORK: "devnet",
      SESSION_SEED_URLS: "http://127.0.0.1:22100/json_rpc",
      SESSION_FILE_SERVER_URL: "http://127.0.0.1:22101",
      BROKER_DEV_IDENTITY: "1",
    });
    expect(env.COMPOSE_PROFILES).toBe("dev");
  });

  it("images are built from the one Dockerfile, one target per service", () => {
    for (const [name, target] of [
      ["broker", "broker"],
      ["plugin-host", "plugin-host"],
      ["gateway", "gateway"],
      ["devnet", "devnet"],
    ] as const) {
      expect(chat.services[name]!.build).toMatchObject({ context: root, target });
      expect(chat.services[name]!.image).toBe(`session-bot/${name}:dev`);
    }
  });
});
