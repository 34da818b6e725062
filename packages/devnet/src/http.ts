// Listener plumbing shared by the seed, the snodes and the file server: plain HTTP or HTTPS on
// loopback, body reading with a size cap, and the fault hooks that run before any route.
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { DevnetError } from "./errors.js";

/** A request handler; errors it throws become a 500. */
export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void> | void;

/** PEM key and certificate for HTTPS. */
export interface TlsMaterial {
  readonly key: string;
  readonly cert: string;
}

/** A started listener. */
export interface Listener {
  readonly port: number;
  close(): Promise<void>;
}

/** Thrown by {@link readBody} when the body is larger than allowed. */
export class BodyTooLarge extends Error {
  override readonly name = "BodyTooLarge";
}

/**
 * Thrown by {@link readBody} when the client closed the connection (or broke the framing) before
 * the body ended: the client's business, not a server failure. {@link listen} reports it to
 * `events.clientGone` instead of `onError` and sends nothing.
 */
export class ClientGone extends Error {
  override readonly name = "ClientGone";
}

/** What {@link listen} reports besides server failures (`onError`). */
export interface ListenEvents {
  /** A handler gave up because its client went away mid-request ({@link ClientGone}). */
  readonly clientGone?: (err: ClientGone) => void;
  /** Bytes that are not HTTP (or over a parser limit) were answered 4xx and the connection closed. */
  readonly clientError?: (err: NodeJS.ErrnoException, status: number | undefined) => void;
}

/** The answer to bytes Node's HTTP parser refuses, as Node's default `clientError` handler sends it. */
function clientErrorStatus(err: NodeJS.ErrnoException): [number, string] {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return [431, "Request Header Fields Too Large"];
    case "HPE_CHUNK_EXTENSIONS_OVERFLOW":
      return [413, "Payload Too Large"];
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return [408, "Request Timeout"];
    default:
      return [400, "Bad Request"];
  }
}

/**
 * Starts one listener on `host:port` (0 = any free port). A handler's error becomes `onError` and a
 * 500, except {@link ClientGone} (reported to `events.clientGone`; there is nobody to answer).
 */
export async function listen(
  host: string,
  port: number,
  tls: TlsMaterial | undefined,
  handler: Handler,
  onError: (err: unknown) => void,
  events: ListenEvents = {},
): Promise<Listener> {
  const wrapped = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    Promise.resolve()
      .then(() => handler(req, res))
      .catch((err: unknown) => {
        if (err instanceof ClientGone) {
          events.clientGone?.(err);
          res.destroy();
          return;
        }
        onError(err);
        if (!res.headersSent) sendText(res, 500, "Internal Server Error");
        else res.destroy();
      });
  };
  const server = tls ? https.createServer({ key: tls.key, cert: tls.cert }, wrapped) : http.createServer(wrapped);
  server.keepAliveTimeout = 5_000;
  const sockets = new Set<Socket>();
  server.on("connection", (s: Socket) => {
    sockets.add(s);
    s.on("close", () => sockets.delete(s));
  });
  // TLS handshake failures from clients are their business, not a crash.
  server.on("tlsClientError", () => undefined);
  // Bytes Node's parser refuses: answer as Node's default handler does (400, or 431/413/408 for
  // its limits) when nothing of a response went out on this socket yet, then close. A reset
  // connection (ECONNRESET) has nobody to answer.
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Duplex) => {
    const inFlight = (socket as Duplex & { _httpMessage?: http.ServerResponse | null })._httpMessage;
    if (err.code !== "ECONNRESET" && socket.writable && (inFlight === undefined || inFlight === null || !inFlight.headersSent)) {
      const [status, reason] = clientErrorStatus(err);
      events.clientError?.(err, status);
      socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`, () => socket.destroy());
      // If the peer never reads (so the answer never flushes), do not keep the socket for ever.
      const timer = setTimeout(() => socket.destroy(), 5_000);
      timer.unref();
      socket.once("close", () => clearTimeout(timer));
    } else {
      events.clientError?.(err, undefined);
      socket.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException): void => {
      server.off("listening", ok);
      reject(
        err.code === "EADDRINUSE"
          ? new DevnetError("DEVNET_PORT_IN_USE", `port ${port} on ${host} is already in use`, { cause: err })
          : new DevnetError("DEVNET_LISTEN_FAILED", `cannot listen on ${host}:${port}`, { cause: err }),
      );
    };
    const ok = (): void => {
      server.off("error", fail);
      resolve();
    };
    server.once("error", fail);
    server.once("listening", ok);
    server.listen(port, host);
  });
  server.on("error", onError);
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/**
 * Reads a request body, rejecting with {@link BodyTooLarge} past `limit` bytes and with
 * {@link ClientGone} when the client goes away before the body ends.
 */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // Gone already (e.g. during an injected delay): its "error" and "close" have been emitted.
    if (req.destroyed && !req.complete) {
      reject(new ClientGone("the client closed the connection before the request body ended"));
      return;
    }
    const declared = Number(req.headers["content-length"]);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new BodyTooLarge(`body of ${declared} bytes exceeds ${limit}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    req.on("data", (c: Buffer) => {
      if (settled) return;
      size += c.length;
      if (size > limit) {
        settled = true;
        reject(new BodyTooLarge(`body exceeds ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => {
      if (settled) return;
      settled = true;
      resolve(Buffer.concat(chunks));
    });
    // The client closed the connection (or broke the framing) before the body ended: Node emits
    // "error" ("aborted", ECONNRESET) and "close" without "end".
    const gone = (cause?: Error): void => {
      if (settled) return;
      settled = true;
      reject(new ClientGone("the client closed the connection before the request body ended", cause === undefined ? undefined : { cause }));
    };
    req.on("error", gone);
    req.on("close", () => {
      if (!req.complete) gone();
    });
  });
}

/** Sends a text/plain answer. */
export function sendText(res: http.ServerResponse, status: number, text: string): void {
  const body = Buffer.from(text, "utf8");
  res.writeHead(status, { "Content-Type": "text/plain; charset=utf-8", "Content-Length": body.length });
  res.end(body);
}

/** Sends a JSON answer with `Content-Type: application/json` exactly (desktop checks it). */
export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), "utf8");
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": body.length });
  res.end(body);
}

/** True for loopback peers (127.0.0.0/8, ::1, IPv4-mapped loopback). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith("::ffff:") ? address.slice(7) : address;
  return a === "::1" || a.startsWith("127.");
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
