/** `ErrorReply`: the body of every failed NATS request/reply. */
import { Type, type Static } from "@sinclair/typebox";
import type { ProtocolError } from "../errors.js";
import { MAX_ERROR_MESSAGE_LENGTH, PROTOCOL_VERSION } from "../limits.js";
import { defineCodec } from "../validation.js";
import { errorCode, errorMessage, jsonObject, versionField } from "./common.js";

/**
 * Body of a failed request/reply exchange. The same `code` is also sent in the `Sb-Error-Code`
 * header, so a receiver can tell an error from a success without parsing the body.
 */
export const ErrorReplySchema = Type.Object(
  {
    v: versionField(),
    code: errorCode("Stable UPPER_SNAKE code (see REPLY_ERROR_CODES, or a ProtocolError code)."),
    message: errorMessage("Human-readable explanation; never contains secrets or message contents."),
    details: Type.Optional(jsonObject("Machine-readable extra data, e.g. { problems: [...] } for PROTOCOL_INVALID.")),
  },
  { title: "ErrorReply", description: "The body of a failed NATS request/reply (the code is also in the Sb-Error-Code header)." },
);
/** The body of a failed request/reply. */
export type ErrorReply = Static<typeof ErrorReplySchema>;

/**
 * Generic reply error codes shared by every request/reply endpoint (a service may add its own
 * UPPER_SNAKE codes; `ProtocolError` codes are also used as-is).
 */
export const REPLY_ERROR_CODES = {
  /** The request body failed validation (use the ProtocolError code when it is one). */
  BAD_REQUEST: "BAD_REQUEST",
  /** The thing asked for does not exist (attachment, conversation, dead letter...). */
  NOT_FOUND: "NOT_FOUND",
  /** A size or count limit was exceeded. */
  TOO_LARGE: "TOO_LARGE",
  /** The caller may not do this. */
  FORBIDDEN: "FORBIDDEN",
  /** A dependency (Session network, file server) is unavailable; retry later. */
  UNAVAILABLE: "UNAVAILABLE",
  /** The operation did not finish in time; retry later. */
  TIMEOUT: "TIMEOUT",
  /** An unexpected failure (a bug); details are in the server's log. */
  INTERNAL: "INTERNAL",
} as const;
/** A generic reply error code. */
export type ReplyErrorCode = (typeof REPLY_ERROR_CODES)[keyof typeof REPLY_ERROR_CODES];

const codec = defineCodec("ErrorReply", ErrorReplySchema);

/** Returns the value typed as {@link ErrorReply} or throws `ProtocolError`. */
export const parseErrorReply = codec.parse;
/** Type guard for {@link ErrorReply}. */
export const isErrorReply = codec.is;
/** UTF-8 JSON → {@link ErrorReply}, or throws `ProtocolError`. */
export const decodeErrorReply = codec.decode;
/** {@link ErrorReply} → UTF-8 JSON (validated first). */
export const encodeErrorReply = codec.encode;

/** Builds an {@link ErrorReply} (`v` filled in); the message is cut to the schema limit. */
export function errorReply(code: string, message: string, details?: Record<string, unknown>): ErrorReply {
  const reply: ErrorReply = { v: PROTOCOL_VERSION, code, message: Array.from(message).slice(0, MAX_ERROR_MESSAGE_LENGTH).join("") };
  if (details !== undefined) reply.details = details;
  return reply;
}

/**
 * The {@link ErrorReply} that answers a request whose body failed with `err`: the ProtocolError
 * code, its message, and `details.problems` (the JSON pointers and messages).
 */
export function errorReplyFromProtocolError(err: ProtocolError): ErrorReply {
  return errorReply(err.code, err.message, { problems: err.problems.map((p) => ({ ...p })) });
}

/** The codec (registry use). */
export const errorReplyCodec = codec;
