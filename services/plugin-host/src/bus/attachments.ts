/**
 * Attachment transfers through the broker's `sb.broker.<bot>.attachments.get|put` endpoints,
 * over `@session-bot/chunker/nats` request/reply streams (bytes never ride in a stream message).
 * Payloads are protocol's attachment envelopes (PROTOCOL.md §8).
 */
import { requestChunked } from "@session-bot/chunker/nats";
import type { NatsConnection } from "@nats-io/nats-core";
import type { AttachmentMeta } from "@session-bot/plugin-sdk";
import type { AttachmentTransport } from "@session-bot/plugin-sdk/runtime";
import {
  BROKER_ENDPOINTS,
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENT_HEADER_BYTES,
  brokerSubject,
  decodeAttachmentGetPayload,
  decodeAttachmentReply,
  encodeAttachmentGetRequest,
  encodeAttachmentPutPayload,
  type AttachmentDescriptor,
} from "@session-bot/protocol";
import { createHash } from "node:crypto";
import { HostError } from "../errors.js";

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
        requestChunked(nc, getSubject, request, { timeoutMs, maxResponseBytes: MAX_ATTACHMENT_BYTES + MAX_ATTACHMENT_HEADER_BYTES + 4 }),
        signal,
      );
      const { header, bytes } = decodeAttachmentGetPayload(reply);
      const meta = header.attachment;
      if (bytes.byteLength !== meta.size) {
        throw new HostError("HOST_ATTACHMENT_FAILED", `attachment ${attachmentId}: got ${bytes.byteLength} bytes, descriptor says ${meta.size}`);
      }
      if (meta.sha256 !== undefined && createHash("sha256").update(bytes).digest("hex") !== meta.sha256) {
        throw new HostError("HOST_ATTACHMENT_FAILED", `attachment ${attachmentId}: SHA-256 mismatch`);
      }
      return bytes;
    },
    async put(bytes: Uint8Array, meta: AttachmentMeta, signal: AbortSignal): Promise<AttachmentDescriptor> {
      if (bytes.byteLength > MAX_ATTACHMENT_BYTES) {
        throw new HostError("HOST_ATTACHMENT_FAILED", `attachment of ${bytes.byteLength} bytes is over the ${MAX_ATTACHMENT_BYTES}-byte limit`);
      }
      const payload = encodeAttachmentPutPayload(
        {
          v: 1,
          contentType: meta.contentType,
          size: bytes.byteLength,
          sha256: createHash("sha256").update(bytes).digest("hex"),
          ...(meta.fileName !== undefined ? { fileName: meta.fileName } : {}),
        },
        bytes,
      );
      const reply = await abortable(requestChunked(nc, putSubject, payload, { timeoutMs }), signal);
      return decodeAttachmentReply(reply).attachment;
    },
  };
}
