// The edges of the devnet's HTTP listeners, over real TCP (and TLS): a client that goes away in
// the middle of a request is not a server failure (debug log, counted, no 500 path). A fuzz
// finding (devnet-client-abort-logged-as-request-failure).
import net from "node:net";
import tls from "node:tls";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startDevnet, type Devnet } from "../src/index.js";

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

const ERROR_LEVEL = 50;

/** A real pino logger at debug level whose lines land in `lines` (synchronously). */
function recordingLogger(lines: LogLine[]): pino.Logger {
  return pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line) as LogLine) });
}

/** Opens a connection (TCP, or TLS accepting the devnet's self-signed certificate). */
function connect(port: number, secure: boolean): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = secure ? tls.connect({ port, host: "127.0.0.1", rejectUnauthorized: false }) : net.connect(port, "127.0.0.1");
    s.once(secure ? "secureConnect" : "connect", () => resolve(s));
    s.once("error", reject);
  });
}

/**
 * Writes `bytes` on a fresh connection, optionally destroys it after `destroyAfterMs`, and resolves
 * with everything the server sent and whether the server closed the connection itself.
 */
async function raw(
  port: number,
  bytes: string,
  opts: { secure?: boolean; destroyAfterMs?: number } = {},
): Promise<{ answer: string; closedByServer: boolean }> {
  const s = await connect(port, opts.secure ?? false);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let destroyedByUs = false;
    const limit = setTimeout(() => {
      s.destroy();
      reject(new Error(`no close within 10 s; got ${JSON.stringify(Buffer.concat(chunks).toString("latin1"))}`));
    }, 10_000);
    s.on("data", (c: Buffer) => chunks.push(c));
    s.on("error", () => undefined);
    s.on("close", () => {
      clearTimeout(limit);
      resolve({ answer: Buffer.concat(chunks).toString("latin1"), closedByServer: !destroyedByUs });
    });
    s.write(bytes);
    if (opts.destroyAfterMs !== undefined) {
      setTimeout(() => {
        destroyedByUs = true;
        s.destroy();
      }, opts.destroyAfterMs);
    }
  });
}

async function waitFor(what: string, cond: () => boolean, ms = 5_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 20) {
    if (waited > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const partialBody = (path: string, host = "127.0.0.1"): string =>
  `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"method":`;

describe.each([
  { scheme: "http", secure: false },
  { scheme: "https", secure: true },
])("devnet over $scheme", ({ secure }) => {
  const lines: LogLine[] = [];
  let devnet: Devnet;
  /** [name, port, path that reads a body] of every listener. */
  let listeners: [string, number, string][];

  const errors = (): LogLine[] => lines.filter((l) => l.level >= ERROR_LEVEL);

  beforeAll(async () => {
    devnet = await startDevnet({ http: !secure, snodeCount: 2, swarmCount: 1, logger: recordingLogger(lines) });
    const port = (url: string): number => Number(new URL(url).port);
    listeners = [
      ["snode", devnet.snodes[0]!.port, "/storage_rpc/v1"],
      ["seed", port(devnet.seedUrls[0]!), "/json_rpc"],
      ["file-server", port(devnet.fileServerUrl), "/file"],
    ];
  });

  afterAll(async () => {
    await devnet?.stop();
  });

  beforeEach(() => {
    lines.length = 0;
    devnet.faults.clear();
  });

  it("a client that closes the connection in the middle of a request body is counted and logged at debug, not as a failure", async () => {
    for (const [name, port, path] of listeners) {
      const before = devnet.clientAborts();
      const { answer } = await raw(port, partialBody(path), { secure, destroyAfterMs: 50 });
      expect(answer, name).toBe(""); // nothing was (or could be) answered
      await waitFor(`${name}: the abort to be counted`, () => devnet.clientAborts() === before + 1);
      const gone = lines.filter((l) => l.msg === "client went away mid-request");
      expect(gone.map((l) => [l.level, l.component]), name).toEqual([[20, name]]);
      expect(errors(), name).toEqual([]);
      lines.length = 0;
    }
  });

  it("an abort while the request waits (an injected latency) before its body is read is counted too, and does not hang", async () => {
    devnet.faults.inject(0, { kind: "latency", ms: 300, count: 1 });
    const before = devnet.clientAborts();
    await raw(devnet.snodes[0]!.port, partialBody("/storage_rpc/v1"), { secure, destroyAfterMs: 30 });
    await waitFor("the abort to be counted", () => devnet.clientAborts() === before + 1);
    expect(errors()).toEqual([]);
  });

  it("keeps serving after all of it", async () => {
    const s = await raw(devnet.snodes[1]!.port, "", { secure, destroyAfterMs: 10 });
    expect(s.answer).toBe("");
    const valid = JSON.stringify({ method: "info", params: {} });
    const { answer } = await raw(
      devnet.snodes[0]!.port,
      `POST /storage_rpc/v1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${Buffer.byteLength(valid)}\r\n\r\n${valid}`,
      { secure },
    );
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 200 OK");
    expect(errors()).toEqual([]);
  });
});
