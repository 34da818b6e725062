/**
 * The outer layers of a 1:1 message (docs/session-protocol.md 2.4, 3.1, 3.2):
 * sealed content -> Envelope -> WebSocketMessage -> bytes stored on the swarm, and back.
 */
import { create, fromBinary, isFieldSet, toBinary } from "@bufbuild/protobuf";
import { SessionError } from "../errors.js";
import {
  ContentSchema,
  EnvelopeSchema,
  Envelope_Type,
  WebSocketMessageSchema,
  WebSocketMessage_Type,
  type Content,
} from "../gen/signalservice_pb.js";

/** What the storage server holds for one 1:1 message, unwrapped. */
export interface UnwrappedEnvelope {
  /** Sent timestamp T (ms): the message's identity for quotes, reactions, receipts. */
  timestamp: number;
  /** The sealed box (2.2). */
  sealed: Uint8Array;
}

/** Options of {@link wrapEnvelope}. */
export interface WrapOptions {
  /** Send the pre-2025 `PUT /api/v1/message` request line (default true: both eras accept it). */
  legacyRequestLine?: boolean;
}

/** Wraps a sealed box sent at `timestamp` into the bytes to `store` (base64 them for the RPC). */
export function wrapEnvelope(sealed: Uint8Array, timestamp: number, options: WrapOptions = {}): Uint8Array {
  const legacy = options.legacyRequestLine ?? true;
  const envelope = create(EnvelopeSchema, { type: Envelope_Type.SESSION_MESSAGE, timestamp: BigInt(timestamp), content: sealed });
  return toBinary(
    WebSocketMessageSchema,
    create(WebSocketMessageSchema, {
      type: WebSocketMessage_Type.REQUEST,
      request: {
        verb: legacy ? "PUT" : "",
        path: legacy ? "/api/v1/message" : "",
        body: toBinary(EnvelopeSchema, envelope),
        id: 0n,
      },
    }),
  );
}

/**
 * Unwraps stored bytes to the Envelope's timestamp and sealed content.
 * @throws SessionError `SESSION_MALFORMED` (not protobuf, fields missing) or `SESSION_UNSUPPORTED`
 * (an envelope type other than 1:1, e.g. a legacy closed group message).
 */
export function unwrapEnvelope(data: Uint8Array): UnwrappedEnvelope {
  let body: Uint8Array;
  try {
    const ws = fromBinary(WebSocketMessageSchema, data);
    if (ws.request === undefined || ws.request.body.length === 0) {
      throw new Error("no request body");
    }
    body = ws.request.body;
  } catch (cause) {
    throw new SessionError("SESSION_MALFORMED", "stored data is not a WebSocketMessage with an envelope", { cause });
  }
  let envelope;
  try {
    envelope = fromBinary(EnvelopeSchema, body);
  } catch (cause) {
    throw new SessionError("SESSION_MALFORMED", "envelope is not valid protobuf", { cause });
  }
  if (!isFieldSet(envelope, EnvelopeSchema.field.type) || !isFieldSet(envelope, EnvelopeSchema.field.timestamp)) {
    throw new SessionError("SESSION_MALFORMED", "envelope lacks its type or timestamp");
  }
  if (envelope.type !== Envelope_Type.SESSION_MESSAGE) {
    throw new SessionError("SESSION_UNSUPPORTED", `envelope type ${envelope.type} is not a 1:1 message`);
  }
  if (isFieldSet(envelope, EnvelopeSchema.field.proSig) && envelope.proSig.length !== 64) {
    throw new SessionError("SESSION_MALFORMED", "envelope proSig is not 64 bytes");
  }
  if (envelope.content.length === 0) throw new SessionError("SESSION_MALFORMED", "envelope has no content");
  if (envelope.timestamp > BigInt(Number.MAX_SAFE_INTEGER)) throw new SessionError("SESSION_MALFORMED", "envelope timestamp out of range");
  return { timestamp: Number(envelope.timestamp), sealed: envelope.content };
}

/**
 * Decodes unpadded Content bytes.
 * @throws SessionError `SESSION_MALFORMED`
 */
export function decodeContent(bytes: Uint8Array): Content {
  try {
    return fromBinary(ContentSchema, bytes);
  } catch (cause) {
    throw new SessionError("SESSION_MALFORMED", "content is not valid protobuf", { cause });
  }
}

/** Serializes Content. */
export function encodeContent(content: Content): Uint8Array {
  return toBinary(ContentSchema, content);
}
