// The edges of the devnet's HTTP listeners, over real TCP (and TLS): a client that goes away in
// the middle of a request is not a server failure (debug log, counted, no 500 path), and bytes that
// are not HTTP get Node's default answer (400 Bad Request, then close) instead of a silent close.
// Both were fuzz findings (devnet-client-abort-logged-as-request-failure,
// devnet-malformed-http-closed-without-400).
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

  it("bytes that are not HTTP get 400 Bad Request and the connection closed, on every listener", async () => {
    for (const [name, port] of listeners) {
      for (const bytes of ["GARBAGE\r\n\r\n", "\u0000\u0001\u0002\r\n\r\n", "GET / HTTP/1.1\r\nHost x\r\n\r\n", "POST /x HTTP/1.1\r\nContent-Length: abc\r\n\r\n"]) {
        const { answer, closedByServer } = await raw(port, bytes, { secure });
        expect(answer.split("\r\n")[0], `${name} ${JSON.stringify(bytes)}`).toBe("HTTP/1.1 400 Bad Request");
        expect(answer).toContain("Connection: close");
        expect(closedByServer).toBe(true);
      }
    }
    expect(lines.filter((l) => l.msg === "malformed request refused").length).toBe(listeners.length * 4);
    expect(errors()).toEqual([]);
  });

  it("headers over Node's limit get 431, as Node's default handler answers", async () => {
    const { answer, closedByServer } = await raw(devnet.snodes[0]!.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`, { secure });
    expect(answer.split("\r\n")[0]).toBe("HTTP/1.1 431 Request Header Fields Too Large");
    expect(closedByServer).toBe(true);
  });

  it("after a valid request answered on a kept-alive connection, garbage on it still gets its 400", async () => {
    const valid = JSON.stringify({ method: "info", params: {} });
    const s = await connect(devnet.snodes[0]!.port, secure);
    const received: Buffer[] = [];
    const text = (): string => Buffer.concat(received).toString("latin1");
    let closed = false;
    s.on("data", (c: Buffer) => received.push(c));
    s.on("error", () => undefined);
    s.on("close", () => (closed = true));
    try {
      s.write(`POST /storage_rpc/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(valid)}\r\n\r\n${valid}`);
      await waitFor("the 200", () => text().includes("\r\n\r\n{"));
      s.write("GARBAGE\r\n\r\n");
      await waitFor("the server to close the connection", () => closed);
      expect(text().match(/HTTP\/1\.1 \d{3} [^\r]*/g), text()).toEqual(["HTTP/1.1 200 OK", "HTTP/1.1 400 Bad Request"]);
    } finally {
      s.destroy();
    }
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
