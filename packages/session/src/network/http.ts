/**
 * One HTTP(S) request with an overall timeout, a response size cap and a choice of TLS trust.
 * Built on node:http/node:https so that self-signed snode certificates can be accepted per
 * request without touching the process-wide fetch dispatcher.
 */
import { Buffer } from "node:buffer";
import { X509Certificate } from "node:crypto";
import http from "node:http";
import https from "node:https";
import type { TLSSocket } from "node:tls";
import { SessionError } from "../errors.js";

/**
 * How to trust a server's TLS certificate.
 * - `system`: normal verification against the system CAs (and the host name).
 * - `pinned`: accept exactly this certificate (PEM), whatever its issuer and names.
 * - `insecure`: accept any certificate (what Session clients do for snodes, whose certificates are self-signed).
 */
export type TlsTrust = { kind: "system" } | { kind: "pinned"; certificatePem: string } | { kind: "insecure" };

/** A finished HTTP exchange. */
export interface HttpResponse {
  status: number;
  contentType: string;
  body: Buffer;
}

/** Options of {@link httpRequest}. */
export interface HttpRequestOptions {
  method: "GET" | "POST";
  url: string;
  body?: Uint8Array | string;
  headers?: Record<string, string>;
  timeoutMs: number;
  trust: TlsTrust;
  /** Largest response body accepted (bytes). */
  maxResponseBytes: number;
  signal?: AbortSignal;
}

const insecureAgent = new https.Agent({ keepAlive: true, rejectUnauthorized: false, maxSockets: 16 });
const systemAgent = new https.Agent({ keepAlive: true, maxSockets: 16 });
const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 16 });
const pinnedAgents = new Map<string, { agent: https.Agent; der: Buffer }>();

function pinned(pem: string): { agent: https.Agent; der: Buffer } {
  let entry = pinnedAgents.get(pem);
  if (entry === undefined) {
    // The pin is checked on the certificate itself (below), so chain/hostname checks are off.
    entry = { agent: new https.Agent({ keepAlive: true, rejectUnauthorized: false, maxSockets: 4 }), der: new X509Certificate(pem).raw };
    pinnedAgents.set(pem, entry);
  }
  return entry;
}

/**
 * Sends one request. Network failures become `SESSION_NETWORK`, the deadline `SESSION_TIMEOUT`;
 * any HTTP status is returned (the caller interprets it).
 */
export function httpRequest(options: HttpRequestOptions): Promise<HttpResponse> {
  const url = new URL(options.url);
  const isHttps = url.protocol === "https:";
  if (!isHttps && url.protocol !== "http:") {
    return Promise.reject(new SessionError("SESSION_INVALID_ARGUMENT", `unsupported URL scheme ${url.protocol}`));
  }
  let agent: http.Agent = httpAgent;
  let pin: Buffer | undefined;
  if (isHttps) {
    if (options.trust.kind === "insecure") agent = insecureAgent;
    else if (options.trust.kind === "system") agent = systemAgent;
    else {
      const p = pinned(options.trust.certificatePem);
      agent = p.agent;
      pin = p.der;
    }
  }
  const body = options.body === undefined ? undefined : typeof options.body === "string" ? Buffer.from(options.body, "utf8") : Buffer.from(options.body);
  const headers: Record<string, string | number> = { ...options.headers };
  if (body !== undefined) headers["content-length"] = body.length;

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const finish = (err: SessionError | null, res?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      if (err !== null) {
        req.destroy();
        reject(err);
      } else resolve(res as HttpResponse);
    };
    const where = `${url.protocol}//${url.host}`;
    const req = (isHttps ? https : http).request(
      url,
      { method: options.method, headers, agent },
      (res) => {
        if (pin !== undefined) {
          const cert = (res.socket as TLSSocket).getPeerCertificate?.();
          if (cert?.raw === undefined || !Buffer.from(cert.raw).equals(pin)) {
            finish(new SessionError("SESSION_NETWORK", `TLS certificate of ${where} does not match the pinned certificate`));
            return;
          }
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          size += chunk.length;
          if (size > options.maxResponseBytes) {
            finish(new SessionError("SESSION_NETWORK", `response from ${where} exceeds ${options.maxResponseBytes} bytes`, { details: { limit: options.maxResponseBytes } }));
            return;
          }
          chunks.push(chunk);
        });
        res.on("end", () => {
          finish(null, { status: res.statusCode ?? 0, contentType: String(res.headers["content-type"] ?? ""), body: Buffer.concat(chunks) });
        });
        res.on("error", (cause) => finish(new SessionError("SESSION_NETWORK", `reading the response of ${where} failed`, { cause })));
      },
    );
    // Listen before anything can destroy the request (an already-aborted signal, the timer):
    // a destroyed request emits "error" ("socket hang up"), and with no listener that is an
    // uncaught exception that ends the process.
    req.on("error", (cause) => finish(new SessionError("SESSION_NETWORK", `request to ${where} failed: ${cause.message}`, { cause })));
    const timer = setTimeout(() => {
      finish(new SessionError("SESSION_TIMEOUT", `request to ${where} timed out after ${options.timeoutMs} ms`));
    }, options.timeoutMs);
    const onAbort = (): void => finish(new SessionError("SESSION_CLOSED", "request aborted"));
    if (options.signal?.aborted === true) {
      finish(new SessionError("SESSION_CLOSED", "request aborted"));
      return;
    }
    options.signal?.addEventListener("abort", onAbort, { once: true });
    if (body !== undefined) req.end(body);
    else req.end();
  });
}
