/**
 * The binary payloads of the chunked attachment endpoints. The chunker carries one byte payload
 * each way, so metadata and file bytes travel together in an envelope:
 *
 * ```
 * envelope = uint32 big-endian N || N bytes of UTF-8 JSON header || file bytes
 * ```
 *
 * - `attachments.put` request: header = `AttachmentPutRequest`, then exactly `size` file bytes.
 * - `attachments.get` reply:   header = `AttachmentReply`, then exactly `attachment.size` file bytes.
 *
 * `attachments.get` requests and `attachments.put` replies are plain JSON documents
 * (`AttachmentGetRequest`, `AttachmentReply`).
 */
import { createHash } from "node:crypto";
import { ProtocolError } from "./errors.js";
import { MAX_ATTACHMENT_BYTES } from "./limits.js";
import { attachmentCodecs, type AttachmentPutRequest, type AttachmentReply } from "./schemas/attachment.js";
import { decodeJson, stringifyJson } from "./validation.js";

/** Largest JSON header of an attachment envelope: 64 KiB. */
export const MAX_ATTACHMENT_HEADER_BYTES = 65_536;

const encoder = new TextEncoder();

/** A decoded attachment envelope: the validated header and the file bytes (a view, not a copy). */
export interface AttachmentEnvelope<H> {
  readonly header: H;
  readonly bytes: Uint8Array;
}

function invalid(pointer: string, message: string): ProtocolError {
  return new ProtocolError("PROTOCOL_INVALID", `invalid attachment envelope: ${pointer} ${message}`, { problems: [{ instancePath: pointer, message }] });
}

function frame(header: unknown, bytes: Uint8Array): Uint8Array {
  const json = encoder.encode(stringifyJson(header, "attachment header"));
  if (json.byteLength > MAX_ATTACHMENT_HEADER_BYTES) {
    throw new ProtocolError("PROTOCOL_TOO_LARGE", `attachment header is ${json.byteLength} bytes, over ${MAX_ATTACHMENT_HEADER_BYTES}`);
  }
  const out = new Uint8Array(4 + json.byteLength + bytes.byteLength);
  new DataView(out.buffer).setUint32(0, json.byteLength, false);
  out.set(json, 4);
  out.set(bytes, 4 + json.byteLength);
  return out;
}

function unframe(payload: Uint8Array): { header: unknown; bytes: Uint8Array } {
  if (!(payload instanceof Uint8Array)) throw new ProtocolError("PROTOCOL_BAD_JSON", "attachment envelope must be a Uint8Array");
  if (payload.byteLength < 4) throw new ProtocolError("PROTOCOL_BAD_JSON", "attachment envelope is shorter than its 4-byte header length");
  const n = new DataView(payload.buffer, payload.byteOffset, payload.byteLength).getUint32(0, false);
  if (n > MAX_ATTACHMENT_HEADER_BYTES) throw new ProtocolError("PROTOCOL_TOO_LARGE", `attachment header claims ${n} bytes, over ${MAX_ATTACHMENT_HEADER_BYTES}`);
  if (4 + n > payload.byteLength) throw new ProtocolError("PROTOCOL_BAD_JSON", "attachment envelope is shorter than its header length");
  const bytes = payload.subarray(4 + n);
  if (bytes.byteLength > MAX_ATTACHMENT_BYTES) throw new ProtocolError("PROTOCOL_TOO_LARGE", `attachment is ${bytes.byteLength} bytes, over ${MAX_ATTACHMENT_BYTES}`);
  return { header: decodeJson(payload.subarray(4, 4 + n), "attachment header"), bytes };
}

function checkBytes(bytes: Uint8Array, size: number, sha256: string | undefined, prefix: string): void {
  if (bytes.byteLength !== size) throw invalid(`${prefix}/size`, `is ${size} but ${bytes.byteLength} bytes follow`);
  if (sha256 !== undefined && createHash("sha256").update(bytes).digest("hex") !== sha256) {
    throw invalid(`${prefix}/sha256`, "does not match the bytes");
  }
}

/**
 * Builds the `attachments.put` request payload. Validates `request`, and that `bytes` has exactly
 * `request.size` bytes (and the `sha256`, when given). Throws `ProtocolError`.
 */
export function encodeAttachmentPutPayload(request: AttachmentPutRequest, bytes: Uint8Array): Uint8Array {
  const header = attachmentCodecs.putCodec.parse(request);
  checkBytes(bytes, header.size, header.sha256, "");
  return frame(header, bytes);
}

/**
 * Splits and checks an `attachments.put` request payload (what the broker receives): header
 * valid, byte count equal to `size`, SHA-256 equal when given. Throws `ProtocolError`.
 */
export function decodeAttachmentPutPayload(payload: Uint8Array): AttachmentEnvelope<AttachmentPutRequest> {
  const { header, bytes } = unframe(payload);
  const request = attachmentCodecs.putCodec.parse(header);
  checkBytes(bytes, request.size, request.sha256, "");
  return { header: request, bytes };
}

/** Builds the `attachments.get` reply payload (descriptor + bytes). Throws `ProtocolError`. */
export function encodeAttachmentGetPayload(reply: AttachmentReply, bytes: Uint8Array): Uint8Array {
  const header = attachmentCodecs.replyCodec.parse(reply);
  checkBytes(bytes, header.attachment.size, header.attachment.sha256, "/attachment");
  return frame(header, bytes);
}

/** Splits and checks an `attachments.get` reply payload (what a plugin receives). Throws `ProtocolError`. */
export function decodeAttachmentGetPayload(payload: Uint8Array): AttachmentEnvelope<AttachmentReply> {
  const { header, bytes } = unframe(payload);
  const reply = attachmentCodecs.replyCodec.parse(header);
  checkBytes(bytes, reply.attachment.size, reply.attachment.sha256, "/attachment");
  return { header: reply, bytes };
}
