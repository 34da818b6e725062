/**
 * Attachment transfers through the broker's `sb.broker.<bot>.attachments.get|put` endpoints,
 * over `@session-bot/chunker/nats` request/reply streams (bytes never ride in a stream message).
 *
 * Payload layout (both directions where bytes travel): a 4-byte big-endian length N, N bytes of
 * UTF-8 JSON (protocol's AttachmentGetRequest / AttachmentPutRequest / AttachmentReply), then the
 * raw attachment bytes.
 * TODO(protocol): adopt protocol's own envelope helpers once PROTOCOL.md defines the layout of
 * the attachment streams; this one is local to plugin-host (and the test responder) until then.
 */
import { requestChunked } from "@session-bot/chunker/nats";
import type { NatsConnection } from "@nats-io/nats-core";
import type { AttachmentMeta } from "@session-bot/plugin-sdk";
import type { AttachmentTransport } from "@session-bot/plugin-sdk/runtime";
import {
  BROKER_ENDPOINTS,
  MAX_ATTACHMENT_BYTES,
  brokerSubject,
  decodeAttachmentReply,
  encodeAttachmentGetRequest,
  encodeAttachmentPutRequest,
  type AttachmentDescriptor,
} from "@session-bot/protocol";
import { createHash } from "node:crypto";
import { HostError } from "../errors.js";

/** Joins a JSON head and a body into one payload. */
export function frameAttachment(head: Uint8Array, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(4 + head.byteLength + body.byteLength);
  new DataView(out.buffer).setUint32(0, head.byteLength, false);
  out.set(head, 4);
  out.set(body, 4 + head.byteLength);
  return out;
}

/** Splits a payload made by {@link frameAttachment}; throws HOST_ATTACHMENT_FAILED when malformed. */
export function unframeAttachment(payload: Uint8Array): { head: Uint8Array; body: Uint8Array } {
  if (payload.byteLength < 4) throw new HostError("HOST_ATTACHMENT_FAILED", "attachment payload shorter than its length prefix");
  const n = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, false);
  if (n > payload.byteLength - 4) throw new HostError("HOST_ATTACHMENT_FAILED", "attachment payload head overruns the payload");
  return { head: payload.subarray(4, 4 + n), body: payload.subarray(4 + n) };
}

function abortable<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** The SDK's attachment transport over the broker's endpoints. */
export function brokerAttachments(nc: NatsConnection, bot: string, timeoutMs: number): AttachmentTransport {
  const getSubject = brokerSubject(bot, BROKER_ENDPOINTS.attachmentsGet);
  const putSubject = brokerSubject(bot, BROKER_ENDPOINTS.attachmentsPut);
  return {
    async get(attachmentId: string, signal: AbortSignal): Promise<Uint8Array> {
      const request = encodeAttachmentGetRequest({ v: 1, attachmentId });
      const reply = await abortable(
        requestChunked(nc, getSubject, request, { timeoutMs, maxResponseBytes: MAX_ATTACHMENT_BYTES + 64 * 1024 }),
        signal,
      );
      const { head, body } = unframeAttachment(reply);
      const meta = decodeAttachmentReply(head).attachment;
      if (body.byteLength !== meta.size) {
        throw new HostError("HOST_ATTACHMENT_FAILED", `attachment ${attachmentId}: got ${body.byteLength} bytes, descriptor says ${meta.size}`);
      }
      if (meta.sha256 !== undefined && createHash("sha256").update(body).digest("hex") !== meta.sha256) {
        throw new HostError("HOST_ATTACHMENT_FAILED", `attachment ${attachmentId}: SHA-256 mismatch`);
      }
      return body;
    },
    async put(bytes: Uint8Array, meta: AttachmentMeta, signal: AbortSignal): Promise<AttachmentDescriptor> {
      if (bytes.byteLength > MAX_ATTACHMENT_BYTES) {
        throw new HostError("HOST_ATTACHMENT_FAILED", `attachment of ${bytes.byteLength} bytes is over the ${MAX_ATTACHMENT_BYTES}-byte limit`);
      }
      const sha256 = createHash("sha256").update(bytes).digest("hex");
      const head = encodeAttachmentPutRequest({
        v: 1,
        contentType: meta.contentType,
        size: bytes.byteLength,
        sha256,
        ...(meta.fileName !== undefined ? { fileName: meta.fileName } : {}),
      });
      const reply = await abortable(requestChunked(nc, putSubject, frameAttachment(head, bytes), { timeoutMs }), signal);
      return decodeAttachmentReply(reply).attachment;
    },
  };
}
