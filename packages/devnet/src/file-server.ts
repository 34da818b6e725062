// The file server (reference 6.3 / 10.3): opaque (already encrypted) blobs with an expiry.
import { randomBytes } from "node:crypto";
import type http from "node:http";
import type { Logger } from "pino";
import { BodyTooLarge, readBody, sendJson, type Handler } from "./http.js";
import type { DevnetStore } from "./store.js";

/** File-server options. */
export interface FileServerOptions {
  /** Largest accepted upload in bytes (default 10,000,000). */
  readonly maxBytes?: number;
  /** Lifetime of an upload in seconds, also the largest `X-FS-TTL` honoured (default 21 days). */
  readonly ttlSeconds?: number;
}

/** Defaults of {@link FileServerOptions}. */
export const FILE_SERVER_DEFAULTS = { maxBytes: 10_000_000, ttlSeconds: 21 * 24 * 3600 } as const;

const notFound = (res: http.ServerResponse): void => sendJson(res, 404, { status_code: 404 });

/** A 53-bit random decimal id, the file server's backwards-compatible id form. */
function newId(): string {
  const b = randomBytes(8);
  const v = b.readBigUInt64BE() & ((1n << 53n) - 1n);
  return (v === 0n ? 1n : v).toString();
}

/** Builds the file-server request handler. */
export function fileServerHandler(
  store: DevnetStore,
  nowMs: () => number,
  options: FileServerOptions,
  log: Logger,
): Handler {
  const maxBytes = options.maxBytes ?? FILE_SERVER_DEFAULTS.maxBytes;
  const ttl = options.ttlSeconds ?? FILE_SERVER_DEFAULTS.ttlSeconds;

  const put = (data: Buffer, ttlHeader: string | string[] | undefined): { id: string; uploaded: number; expires: number } => {
    const uploaded = nowMs() / 1000;
    let life = ttl;
    const asked = typeof ttlHeader === "string" ? Number(ttlHeader) : NaN;
    if (Number.isFinite(asked) && asked > 0) life = Math.min(asked, ttl);
    for (;;) {
      const file = { id: newId(), data, uploaded, expires: uploaded + life };
      if (store.putFile(file)) {
        log.debug({ id: file.id, size: data.length }, "file stored");
        return file;
      }
    }
  };

  return async (req, res) => {
    const url = new URL(req.url ?? "/", "http://devnet");
    const parts = url.pathname.split("/").filter(Boolean);
    const method = req.method ?? "GET";

    if (method === "POST" && parts.length === 1 && parts[0] === "file") {
      let body: Buffer;
      try {
        body = await readBody(req, maxBytes);
      } catch (err) {
        if (err instanceof BodyTooLarge) {
          sendJson(res, 413, { status_code: 413, message: `file exceeds ${maxBytes} bytes` });
          return;
        }
        throw err;
      }
      if (body.length === 0) {
        sendJson(res, 400, { status_code: 400, message: "empty upload" });
        return;
      }
      const f = put(body, req.headers["x-fs-ttl"]);
      sendJson(res, 200, { id: f.id, uploaded: f.uploaded, expires: f.expires });
      return;
    }

    if (method === "GET" && parts[0] === "file" && parts.length === 2) {
      const f = store.getFile(parts[1]!, nowMs() / 1000);
      if (!f) return notFound(res);
      res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": f.data.length });
      res.end(f.data);
      return;
    }

    if (method === "GET" && parts[0] === "file" && parts.length === 3 && parts[2] === "info") {
      const f = store.getFile(parts[1]!, nowMs() / 1000);
      if (!f) return notFound(res);
      sendJson(res, 200, { size: f.data.length, uploaded: f.uploaded, expires: f.expires });
      return;
    }

    if (method === "POST" && parts[0] === "file" && parts.length === 3 && parts[2] === "extend") {
      const f = store.getFile(parts[1]!, nowMs() / 1000);
      if (!f) return notFound(res);
      const expires = nowMs() / 1000 + ttl;
      store.setFileExpiry(f.id, expires);
      sendJson(res, 200, { size: f.data.length, uploaded: f.uploaded, expires });
      return;
    }

    // Legacy JSON API: POST /files {"file": b64} and GET /files/<id>.
    if (method === "POST" && parts.length === 1 && parts[0] === "files") {
      let body: Buffer;
      try {
        body = await readBody(req, Math.ceil((maxBytes * 4) / 3) + 1024);
      } catch (err) {
        if (err instanceof BodyTooLarge) return sendJson(res, 413, { status_code: 413 });
        throw err;
      }
      let b64: unknown;
      try {
        b64 = (JSON.parse(body.toString("utf8")) as { file?: unknown }).file;
      } catch {
        b64 = undefined;
      }
      if (typeof b64 !== "string" || b64.length === 0) return sendJson(res, 400, { status_code: 400 });
      const data = Buffer.from(b64, "base64");
      if (data.length > maxBytes) return sendJson(res, 413, { status_code: 413 });
      const f = put(data, req.headers["x-fs-ttl"]);
      sendJson(res, 200, { status_code: 200, result: Number(f.id) });
      return;
    }
    if (method === "GET" && parts.length === 2 && parts[0] === "files") {
      const f = store.getFile(parts[1]!, nowMs() / 1000);
      if (!f) return notFound(res);
      sendJson(res, 200, { status_code: 200, result: f.data.toString("base64") });
      return;
    }

    notFound(res);
  };
}
