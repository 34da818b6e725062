// attachments.get / attachments.put over @session-bot/chunker request/reply streams. Plugins send
// and receive plain bytes; keys, digests and file-server URLs never leave the broker.
import { createHash, randomUUID } from "node:crypto";
import type { NatsConnection } from "@nats-io/transport-node";
import { serveChunked, type ChunkedService } from "@session-bot/chunker/nats";
import {
  BROKER_ENDPOINTS,
  MAX_ATTACHMENT_HEADER_BYTES,
  PROTOCOL_VERSION,
  REPLY_ERROR_CODES,
  brokerQueueGroup,
  brokerSubject,
  decodeAttachmentGetRequest,
  decodeAttachmentPutPayload,
  encodeAttachmentGetPayload,
  encodeAttachmentReply,
  isProtocolError,
  type AttachmentDescriptor,
} from "@session-bot/protocol";
import { isSessionError, type AttachmentInfo, type SessionClient } from "@session-bot/session";
import type { Logger } from "pino";
import type { BrokerStore } from "../db/store.js";
import type { BrokerMetrics } from "../metrics.js";

/** Longest wait for a caller or for our handler (a 9 MB download/upload to the file server on a slow link). */
const HANDLER_TIMEOUT_MS = 120_000;

export interface AttachmentDeps {
  readonly bot: string;
  readonly maxAttachmentBytes: number;
  readonly client: SessionClient;
  readonly store: BrokerStore;
  readonly metrics: BrokerMetrics;
  readonly log: Logger;
}

/** A failure answered to the plugin: the chunker carries `"<CODE>: <message>"` back as CHUNK_REMOTE. */
export class AttachmentReplyError extends Error {
  override readonly name = "AttachmentReplyError";
  readonly code: string;
  constructor(code: string, message: string, cause?: unknown) {
    super(`${code}: ${message}`, cause === undefined ? undefined : { cause });
    this.code = code;
  }
}

/** The domain operations (plain bytes in and out). */
export class Attachments {
  readonly #d: AttachmentDeps;
  constructor(deps: AttachmentDeps) {
    this.#d = deps;
  }

  /** Downloads and decrypts attachment `id`; returns its descriptor and bytes. */
  async get(id: string): Promise<{ descriptor: AttachmentDescriptor; bytes: Uint8Array }> {
    const row = this.#d.store.getAttachment(id);
    if (!row) throw new AttachmentReplyError(REPLY_ERROR_CODES.NOT_FOUND, `no attachment ${id}`);
    if (row.size > this.#d.maxAttachmentBytes) throw new AttachmentReplyError(REPLY_ERROR_CODES.TOO_LARGE, `attachment declares ${row.size} bytes, over ${this.#d.maxAttachmentBytes}`);
    const info = JSON.parse(row.pointer) as AttachmentInfo;
    let bytes: Uint8Array;
    try {
      bytes = await this.#d.client.downloadAttachment(info, { maxBytes: this.#d.maxAttachmentBytes });
    } catch (err) {
      const code = isSessionError(err) ? err.code : "unknown";
      const reply = code === "SESSION_ATTACHMENT_TOO_LARGE" ? REPLY_ERROR_CODES.TOO_LARGE : code === "SESSION_NETWORK" || code === "SESSION_TIMEOUT" || code === "SESSION_FILE_SERVER" ? REPLY_ERROR_CODES.UNAVAILABLE : REPLY_ERROR_CODES.INTERNAL;
      throw new AttachmentReplyError(reply, `download failed (${code})`, err);
    }
    const descriptor: AttachmentDescriptor = {
      id,
      contentType: row.contentType ?? "application/octet-stream",
      size: bytes.byteLength,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      ...(row.fileName !== null ? { fileName: row.fileName } : {}),
    };
    return { descriptor, bytes };
  }

  /** Encrypts and uploads `bytes`; returns the descriptor whose id a send action can list. */
  async put(meta: { contentType: string; fileName?: string | undefined }, bytes: Uint8Array): Promise<AttachmentDescriptor> {
    if (bytes.byteLength > this.#d.maxAttachmentBytes) throw new AttachmentReplyError(REPLY_ERROR_CODES.TOO_LARGE, `attachment is ${bytes.byteLength} bytes, over ${this.#d.maxAttachmentBytes}`);
    let info: AttachmentInfo;
    try {
      info = await this.#d.client.uploadAttachment(bytes, { contentType: meta.contentType, ...(meta.fileName !== undefined ? { fileName: meta.fileName } : {}) });
    } catch (err) {
      const code = isSessionError(err) ? err.code : "unknown";
      throw new AttachmentReplyError(code === "SESSION_ATTACHMENT_TOO_LARGE" ? REPLY_ERROR_CODES.TOO_LARGE : REPLY_ERROR_CODES.UNAVAILABLE, `upload failed (${code})`, err);
    }
    const id = `out:${randomUUID()}`;
    this.#d.store.putAttachment({ id, direction: "out", pointer: JSON.stringify(info), size: bytes.byteLength, contentType: meta.contentType, fileName: meta.fileName ?? null });
    return {
      id,
      contentType: meta.contentType,
      size: bytes.byteLength,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      ...(meta.fileName !== undefined ? { fileName: meta.fileName } : {}),
    };
  }
}

/** Serves both endpoints with the chunker; returns the running services. */
export function serveAttachments(nc: NatsConnection, deps: AttachmentDeps): ChunkedService[] {
  const api = new Attachments(deps);
  const queue = brokerQueueGroup(deps.bot);
  const count = (op: string, result: string) => deps.metrics.attachments.inc({ op, result });
  const wrap = (op: string, fn: (req: Uint8Array) => Promise<Uint8Array>) => async (req: Uint8Array) => {
    try {
      const out = await fn(req);
      count(op, "ok");
      return out;
    } catch (err) {
      const e = isProtocolError(err)
        ? new AttachmentReplyError(err.code === "PROTOCOL_TOO_LARGE" ? REPLY_ERROR_CODES.TOO_LARGE : err.code, err.message, err)
        : err instanceof AttachmentReplyError
          ? err
          : new AttachmentReplyError(REPLY_ERROR_CODES.INTERNAL, "internal error", err);
      count(op, e.code === REPLY_ERROR_CODES.TOO_LARGE ? "too_large" : "error");
      deps.log.warn({ op, code: e.code, err: e.cause }, "attachment request refused");
      throw e;
    }
  };
  // Failures the chunker answers itself (a claim over maxRequestBytes, timeouts, bad frames).
  const onError = (op: string) => (err: Error & { code?: string }, info: { subject: string }) => {
    if (err.code === "CHUNK_REMOTE") return; // the handler's own error: counted in wrap()
    count(op, err.code === "CHUNK_TOO_LARGE" ? "too_large" : "transfer_error");
    deps.log.warn({ err, subject: info.subject }, "attachment transfer failed");
  };
  const get = serveChunked(
    nc,
    brokerSubject(deps.bot, BROKER_ENDPOINTS.attachmentsGet),
    wrap("get", async (req) => {
      const r = decodeAttachmentGetRequest(req);
      const { descriptor, bytes } = await api.get(r.attachmentId);
      return encodeAttachmentGetPayload({ v: PROTOCOL_VERSION, attachment: descriptor }, bytes);
    }),
    { queue, maxRequestBytes: MAX_ATTACHMENT_HEADER_BYTES, timeoutMs: HANDLER_TIMEOUT_MS, onError: onError("get") },
  );
  const put = serveChunked(
    nc,
    brokerSubject(deps.bot, BROKER_ENDPOINTS.attachmentsPut),
    wrap("put", async (req) => {
      const { header, bytes } = decodeAttachmentPutPayload(req);
      const descriptor = await api.put({ contentType: header.contentType, fileName: header.fileName }, bytes);
      return encodeAttachmentReply({ v: PROTOCOL_VERSION, attachment: descriptor });
    }),
    // A bigger claim is refused by the chunker before anything is buffered.
    { queue, maxRequestBytes: deps.maxAttachmentBytes + 4 + MAX_ATTACHMENT_HEADER_BYTES, timeoutMs: HANDLER_TIMEOUT_MS, onError: onError("put") },
  );
  return [get, put];
}
