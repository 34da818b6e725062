import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";

/** A running nats-server with JetStream, started for one test file. */
export interface TestNats {
  /** `nats://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Which backend runs it. */
  readonly kind: "container" | "binary";
  /** Stops the server abruptly (SIGKILL for a binary) and starts it again on the same port and store. */
  restart(): Promise<void>;
  /** Stops it and removes its store. */
  stop(): Promise<void>;
}

export interface StartNatsOptions {
  /** `container` (testcontainers, image `nats:2.12`) or `binary` (`$NATS_SERVER_BIN` or `nats-server` on PATH). Default: `$SB_TEST_NATS`, else `container`. */
  kind?: "container" | "binary";
  /** Server `max_payload` in bytes (default: the server's 1 MiB). */
  maxPayload?: number;
  /** Extra lines appended to the server configuration file. */
  extraConfig?: string;
  /** Container image (default `$SB_TEST_NATS_IMAGE` or `nats:2.12`). */
  image?: string;
}

/** Starts a nats-server with JetStream for a test. Call `stop()` in `afterAll`. */
export async function startNats(opts: StartNatsOptions = {}): Promise<TestNats> {
  const kind = opts.kind ?? (process.env.SB_TEST_NATS === "binary" ? "binary" : "container");
  const config = serverConfig(opts);
  return kind === "binary" ? startBinary(config) : startContainer(config, opts.image);
}

function serverConfig(opts: StartNatsOptions): string {
  const lines = ["jetstream: { store_dir: /data/js }"];
  if (opts.maxPayload !== undefined) lines.push(`max_payload: ${opts.maxPayload}`);
  if (opts.extraConfig) lines.push(opts.extraConfig);
  return lines.join("\n") + "\n";
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Waits until a nats-server answers on `port` with its INFO line. A bare TCP connect is not
 * enough: Docker's port proxy accepts connections while the container is still (re)starting.
 */
async function waitForNats(port: number, timeoutMs: number): Promise<void> {
  const { connect } = await import("node:net");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      const done = (v: boolean) => {
        clearTimeout(timer);
        s.destroy();
        resolve(v);
      };
      const timer = setTimeout(() => done(false), 1_000);
      s.once("data", (chunk: Buffer) => done(chunk.subarray(0, 5).toString() === "INFO "));
      s.once("error", () => done(false));
      s.once("close", () => done(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server did not answer on ${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startBinary(config: string): Promise<TestNats> {
  const dir = mkdtempSync(join(tmpdir(), "sb-nats-"));
  const port = await freePort();
  const confFile = join(dir, "nats.conf");
  writeFileSync(confFile, config.replace("/data/js", join(dir, "js")) + `listen: "127.0.0.1:${port}"\n`);
  const bin = process.env.NATS_SERVER_BIN ?? "nats-server";
  let child: ChildProcess | undefined;
  const launch = async () => {
    child = spawn(bin, ["-c", confFile], { stdio: "ignore" });
    await waitForNats(port, 30_000);
  };
  const kill = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once("exit", () => resolve());
      c.kill("SIGKILL");
    });
  };
  await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    kind: "binary",
    async restart() {
      await kill();
      await launch();
    },
    async stop() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startContainer(config: string, image?: string): Promise<TestNats> {
  const port = await freePort();
  const container: StartedTestContainer = await new GenericContainer(image ?? process.env.SB_TEST_NATS_IMAGE ?? "nats:2.12")
    .withCopyContentToContainer([{ content: config, target: "/etc/nats/test.conf" }])
    .withCommand(["-c", "/etc/nats/test.conf"])
    // A fixed host port keeps the URL valid across restart().
    .withExposedPorts({ container: 4222, host: port })
    .withWaitStrategy(Wait.forLogMessage(/Server is ready/))
    .start();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    kind: "container",
    async restart() {
      await container.restart({ timeout: 0 });
      await waitForNats(port, 30_000);
    },
    async stop() {
      await container.stop({ timeout: 0, remove: true });
    },
  };
}

/** Writes `content` to a temporary file and returns its path (for credentials or permission files in tests). */
export function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "sb-file-"));
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}
