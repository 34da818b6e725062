/**
 * The whole session_bot stack as child processes on loopback, wired the way `scripts/start.sh`
 * wires it: nats-server (JetStream, file store), the devnet CLI, the broker, N plugin-hosts and
 * the gateway. Every process writes its stdout and stderr straight into `<runDir>/logs/<name>.log`
 * (appended across restarts), so the logs survive a SIGKILL and can be searched afterwards.
 *
 * The broker's identity comes from a mnemonic in a 0600 file (`SESSION_MNEMONIC_FILE`), the
 * gateway's admin token from `GATEWAY_ADMIN_TOKENS_FILE`; both are readable here so tests can
 * use them and look for them in the logs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { connect as tcpConnect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { randomBytes } from "node:crypto";
import { Identity } from "@session-bot/session";

/** Repository root (this file lives in packages/chaos/{src,dist}). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const MAIN = {
  devnet: join(REPO_ROOT, "packages/devnet/dist/cli/devnet.js"),
  broker: join(REPO_ROOT, "services/broker/dist/main.js"),
  pluginHost: join(REPO_ROOT, "services/plugin-host/dist/main.js"),
  gateway: join(REPO_ROOT, "services/gateway/dist/main.js"),
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once("error", rej);
    srv.listen(0, "127.0.0.1", () => {
      const a = srv.address();
      const port = typeof a === "object" && a ? a.port : 0;
      srv.close(() => res(port));
    });
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = tcpConnect(port, "127.0.0.1");
    s.once("connect", () => {
      s.destroy();
      res(true);
    });
    s.once("error", () => res(false));
  });
}

/** Polls `check` every `everyMs` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? ` (last error: ${last.message})` : ""}`);
    await sleep(everyMs);
  }
}

/** One service of the stack: a command that can be started, killed and started again. */
export class Service {
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  starts = 0;
  kills = 0;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly env: Record<string, string>,
    readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.running ? this.#child?.pid : undefined;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const fd = openSync(this.logFile, "a");
    writeSync(fd, `\n=== [chaos] start #${this.starts + 1} of ${this.name} at ${new Date().toISOString()}\n`);
    const child = spawn(this.command, [...this.args], { env: this.env, stdio: ["ignore", fd, fd], cwd: REPO_ROOT });
    closeSync(fd); // the child holds its own copy
    this.starts++;
    this.#child = child;
    this.#exited = new Promise((res) => {
      if (child.exitCode !== null || child.signalCode !== null) res();
      else child.once("exit", () => res());
    });
    child.once("error", () => undefined);
  }

  /** Sends `signal` and waits for the exit; a SIGTERM that is not obeyed within `graceMs` becomes a SIGKILL. */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = 20_000): Promise<void> {
    const child = this.#child;
    if (!child || !this.running) return;
    if (signal === "SIGKILL") this.kills++;
    child.kill(signal);
    const timedOut = await Promise.race([this.#exited.then(() => false), sleep(graceMs).then(() => true)]);
    if (timedOut) {
      child.kill("SIGKILL");
      await this.#exited;
    }
  }

  /** SIGKILL without waiting (for a process `exit` hook, where nothing asynchronous runs). */
  killNow(): void {
    if (this.running) this.#child?.kill("SIGKILL");
  }

  /** How the last run ended (`null` while running). */
  get exit(): { code: number | null; signal: string | null } | null {
    const c = this.#child;
    return c && !this.running ? { code: c.exitCode, signal: c.signalCode } : null;
  }
}

export interface StackOptions {
  /** Plugin-host workers (default 3). */
  workers?: number;
  /** Pino level of every service (default `info`). */
  logLevel?: string;
  /** Keep the run directory after stop (default: `$SB_CHAOS_KEEP` set). */
  keep?: boolean;
  /** Where to put the run directory (default: the OS temp dir). */
  parentDir?: string;
}

/** The whole stack as processes. `Stack.start()`; always `stop()` it. */
export class Stack {
  readonly runDir: string;
  readonly logDir: string;
  readonly bot = "chaos";
  readonly services: Service[] = [];
  nats!: Service;
  devnet!: Service;
  broker!: Service;
  workers: Service[] = [];
  gateway!: Service;
  natsPort = 0;
  brokerHttpPort = 0;
  gatewayPort = 0;
  /** The broker's recovery password (secret: only for checks). */
  mnemonic = "";
  /** The gateway's admin token (secret: only for calls and checks). */
  adminToken = "";
  devnetInfo!: { seedUrls: string[]; fileServerUrl: string; scheme: string };
  readonly brokerDataDir: string;
  private readonly keep: boolean;
  #unhook: () => void = () => undefined;

  private constructor(readonly options: StackOptions) {
    this.runDir = mkdtempSync(join(options.parentDir ?? tmpdir(), "sb-chaos-"));
    this.logDir = join(this.runDir, "logs");
    this.brokerDataDir = join(this.runDir, "broker");
    this.keep = options.keep ?? process.env.SB_CHAOS_KEEP !== undefined;
    for (const d of [this.logDir, this.brokerDataDir, join(this.runDir, "nats"), join(this.runDir, "devnet")]) mkdirSync(d, { recursive: true });
  }

  get natsUrl(): string {
    return `nats://127.0.0.1:${this.natsPort}`;
  }

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.gatewayPort}`;
  }

  get brokerDbFile(): string {
    return join(this.brokerDataDir, "broker.sqlite");
  }

  static async start(options: StackOptions = {}): Promise<Stack> {
    const s = new Stack(options);
    // If the test process ends without stop() (an uncaught error, a runner shutting down), take
    // the children along instead of leaving a nats-server and friends behind.
    const orphans = () => s.services.forEach((svc) => svc.killNow());
    process.once("exit", orphans);
    s.#unhook = () => process.off("exit", orphans);
    try {
      await s.boot();
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  private service(name: string, command: string, args: string[], env: Record<string, string>): Service {
    const svc = new Service(name, command, args, { PATH: process.env.PATH ?? "", ...env }, join(this.logDir, `${name}.log`));
    this.services.push(svc);
    return svc;
  }

  private async boot(): Promise<void> {
    const level = this.options.logLevel ?? "info";
    const common = { SB_BOT: this.bot, LOG_LEVEL: level };

    // Secrets, in 0600 files as an operator would provide them.
    this.mnemonic = (await Identity.generate()).mnemonic();
    const mnemonicFile = join(this.runDir, "mnemonic");
    writeFileSync(mnemonicFile, this.mnemonic + "\n", { mode: 0o600 });
    this.adminToken = randomBytes(24).toString("base64url");
    const tokenFile = join(this.runDir, "gateway-token");
    writeFileSync(tokenFile, this.adminToken + "\n", { mode: 0o600 });

    // NATS, JetStream on a file store that outlives a SIGKILL.
    this.natsPort = await freePort();
    this.nats = this.service("nats", process.env.NATS_SERVER_BIN ?? "nats-server", ["--jetstream", "--store_dir", join(this.runDir, "nats"), "--addr", "127.0.0.1", "--port", String(this.natsPort)], {});
    await this.startNats();

    // The devnet CLI (plain HTTP: the TLS handshakes would only burn the 2 shared cores).
    const devnetDir = join(this.runDir, "devnet");
    this.devnet = this.service("devnet", process.execPath, [MAIN.devnet, "--http", "--port", "0", "--snodes", "6", "--swarms", "2", "--data-dir", devnetDir, "--log-level", level], {});
    this.devnet.start();
    const stateFile = join(devnetDir, "devnet.json");
    this.devnetInfo = await until("the devnet state file", () => (existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, "utf8")) as Stack["devnetInfo"]) : undefined), 60_000);

    this.brokerHttpPort = await freePort();
    this.broker = this.service("broker", process.execPath, [MAIN.broker], {
      ...common,
      NATS_URL: this.natsUrl,
      SESSION_NETWORK: "devnet",
      SESSION_SEED_URLS: this.devnetInfo.seedUrls.join(","),
      SESSION_FILE_SERVER_URL: this.devnetInfo.fileServerUrl,
      SESSION_SNODE_SCHEME: this.devnetInfo.scheme,
      SESSION_MNEMONIC_FILE: mnemonicFile,
      BROKER_DATA_DIR: this.brokerDataDir,
      BROKER_HTTP_PORT: String(this.brokerHttpPort),
      BROKER_DISPLAY_NAME: "chaos bot",
      BROKER_POLL_INTERVAL_MS: "250",
      // Many messages from few peers: the per-sender limit is not what this test is about.
      BROKER_RATE_PER_MINUTE: "100000",
      BROKER_RATE_BURST: "10000",
      BROKER_OUTBOUND_ACK_WAIT_MS: "15000",
      BROKER_OUTBOUND_MAX_DELIVER: "10",
      BROKER_OUTBOUND_BACKOFF_MS: "500,2000,5000",
    });
    await this.startBroker();

    const workers = this.options.workers ?? 3;
    for (let i = 1; i <= workers; i++) {
      const w = this.service(`plugin-host-${i}`, process.execPath, [MAIN.pluginHost], {
        ...common,
        NATS_URL: this.natsUrl,
        PLUGIN_HOST_HTTP_PORT: "0",
        PLUGIN_HOST_INSTANCE: `worker-${i}`,
        PLUGIN_HOST_PLUGINS: "@session-bot/plugin-echo,@session-bot/plugin-files,@session-bot/plugin-help",
        // A killed worker's event comes back after ack_wait: keep it short, above the handler timeout.
        PLUGIN_HOST_ACK_WAIT_MS: "10000",
        PLUGIN_HOST_HANDLER_TIMEOUT_MS: "8000",
        // Enough deliveries to ride out a broker or NATS restart (the /hash handler needs the broker).
        PLUGIN_HOST_MAX_DELIVER: "12",
        PLUGIN_HOST_BACKOFF_MS: "500,1000,2000,5000",
      });
      w.start();
      this.workers.push(w);
    }

    this.gatewayPort = await freePort();
    this.gateway = this.service("gateway", process.execPath, [MAIN.gateway], {
      ...common,
      NATS_URL: this.natsUrl,
      GATEWAY_PORT: String(this.gatewayPort),
      GATEWAY_ADMIN_TOKENS_FILE: tokenFile,
      // The controller polls the admin API while workers restart; the default 300/min is not under test here.
      GATEWAY_RATE_LIMIT_MAX: "5000",
    });
    this.gateway.start();
    await this.waitReady(120_000);
  }

  private async startNats(): Promise<void> {
    this.nats.start();
    await until("nats-server listening", async () => ((await portOpen(this.natsPort)) ? true : undefined), 30_000, 50);
  }

  private async startBroker(): Promise<void> {
    this.broker.start();
    await until(
      "the broker's /readyz",
      async () => {
        if (!this.broker.running) throw new Error(`broker exited: ${JSON.stringify(this.broker.exit)}`);
        const r = await fetch(`http://127.0.0.1:${this.brokerHttpPort}/readyz`);
        return r.ok ? true : undefined;
      },
      120_000,
    );
  }

  /** Waits until the gateway says the fleet is ready (NATS, broker, ≥ 1 plugin-host). */
  async waitReady(timeoutMs: number): Promise<void> {
    await until("the gateway's /readyz", async () => ((await fetch(`${this.gatewayUrl}/readyz`)).ok ? true : undefined), timeoutMs, 500);
  }

  /** An admin API call; `token` undefined = the real token, `null` = none. */
  async admin(path: string, init: { method?: string; token?: string | null; body?: unknown } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    const token = init.token === undefined ? this.adminToken : init.token;
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (init.body !== undefined) headers["content-type"] = "application/json";
    return fetch(`${this.gatewayUrl}${path}`, { method: init.method ?? "GET", headers, ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}) });
  }

  /** An admin GET that must succeed, parsed. */
  async adminJson<T>(path: string): Promise<T> {
    const r = await this.admin(path);
    if (!r.ok) throw new Error(`GET ${path} -> ${r.status} ${await r.text()}`);
    return (await r.json()) as T;
  }

  /** Injects a devnet fault through its HTTP admin endpoint (`POST <seed>/_devnet/faults`). */
  async devnetFault(target: string | number, fault: { kind: string; ms?: number; count?: number }): Promise<void> {
    const seed = this.devnetInfo.seedUrls[0]!.replace(/\/json_rpc$/, "");
    const r = await fetch(`${seed}/_devnet/faults`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ target, fault }) });
    if (!r.ok) throw new Error(`devnet fault refused: ${r.status} ${await r.text()}`);
  }

  /** Instances the gateway lists under /admin/workers. */
  async workerInstances(): Promise<string[]> {
    const list = await this.adminJson<{ items: { instance: string }[] }>("/admin/workers");
    return list.items.map((w) => w.instance).sort();
  }

  /** SIGKILLs worker `i` (0-based). */
  async killWorker(i: number): Promise<void> {
    await this.workers[i]!.stop("SIGKILL");
  }

  /** Starts worker `i` again and waits until the gateway lists it. */
  async restartWorker(i: number, timeoutMs = 90_000): Promise<void> {
    const w = this.workers[i]!;
    w.start();
    await until(`worker-${i + 1} registered again`, async () => ((await this.workerInstances()).includes(`worker-${i + 1}`) ? true : undefined), timeoutMs, 1_000);
  }

  /** Stops the broker with `signal` and starts it again on the same data dir; waits for /readyz. */
  async restartBroker(signal: NodeJS.Signals): Promise<void> {
    await this.broker.stop(signal);
    await this.startBroker();
  }

  /** SIGKILLs nats-server and starts it again on the same port and store dir. */
  async restartNats(): Promise<void> {
    await this.nats.stop("SIGKILL");
    await this.startNats();
  }

  /** Every captured log, by service name. */
  logs(): Map<string, string> {
    const out = new Map<string, string>();
    for (const f of readdirSync(this.logDir)) out.set(f.replace(/\.log$/, ""), readFileSync(join(this.logDir, f), "utf8"));
    return out;
  }

  /** The last `chars` of every log, for failure messages. */
  tail(chars = 2_000): string {
    return [...this.logs()].map(([n, l]) => `--- ${n}\n${l.slice(-chars)}`).join("\n");
  }

  /** Stops everything (gateway and workers first, NATS last) and removes the run dir unless kept. */
  async stop(): Promise<void> {
    for (const svc of [...this.services].reverse()) await svc.stop("SIGTERM", 15_000).catch(() => undefined);
    this.#unhook();
    if (!this.keep) rmSync(this.runDir, { recursive: true, force: true });
  }
}
