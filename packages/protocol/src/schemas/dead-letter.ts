/** `DeadLetter`: a message that could not be processed, published to `SB_DEAD` (`sb.dead.<bot>`). */
import { Type, type Static } from "@sinclair/typebox";
import { MAX_DEAD_LETTER_JSON_DEPTH, MAX_DEAD_LETTER_PAYLOAD_LENGTH, MAX_ID_LENGTH } from "../limits.js";
import { defineCodec, nestsDeeperThan } from "../validation.js";
import { botName, count, discriminatedUnion, errorCode, errorMessage, id, pluginName, timestampMs, versionField } from "./common.js";

const payloadVariants = [
  Type.Object(
    {
      encoding: Type.Literal("json"),
      json: Type.Unknown({ description: "The original body, parsed (it was valid JSON)." }),
    },
    { title: "DeadLetterJsonPayload" },
  ),
  Type.Object(
    {
      encoding: Type.Literal("base64"),
      data: Type.String({
        maxLength: MAX_DEAD_LETTER_PAYLOAD_LENGTH,
        pattern: "^[A-Za-z0-9+/]*={0,2}$",
        description: "The original body bytes, standard base64 (used when the body was not JSON, or too large).",
      }),
      truncated: Type.Optional(Type.Boolean({ description: "True when only the first bytes were kept." })),
    },
    { title: "DeadLetterBase64Payload" },
  ),
];

/** The original body of a dead-lettered message: parsed JSON, or base64 bytes. */
export const DeadLetterPayloadSchema = discriminatedUnion("encoding", payloadVariants, {
  title: "DeadLetterPayload",
  description: "The original body: encoding 'json' when it parsed as JSON, else 'base64'.",
});
/** The original body of a dead-lettered message. */
export type DeadLetterPayload = Static<typeof DeadLetterPayloadSchema>;

/** A message that failed permanently (poison, or `max_deliver` exhausted), with enough to retry it. */
export const DeadLetterSchema = Type.Object(
  {
    v: versionField(),
    id: id("Unique id of this dead letter (also its Nats-Msg-Id), e.g. '<stream>:<stream sequence>'."),
    bot: botName(),
    source: Type.Object(
      {
        stream: Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, description: "Stream the message came from (SB_INBOUND, SB_OUTBOUND)." }),
        subject: Type.String({ minLength: 1, maxLength: 512, description: "Its original subject (a retry republishes there)." }),
        sequence: Type.Optional(count("Its stream sequence.")),
        consumer: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_ID_LENGTH, description: "The durable consumer that gave up." })),
        messageId: Type.Optional(id("Its Nats-Msg-Id / event or action id, when known.")),
      },
      { description: "Where the message came from." },
    ),
    payload: DeadLetterPayloadSchema,
    reason: Type.Object(
      {
        code: errorCode("Stable code, e.g. PROTOCOL_INVALID, MAX_DELIVER, PLUGIN_FAILED, SEND_FAILED."),
        message: errorMessage("Explanation (no secrets, no message text)."),
      },
      { description: "Why it was dead-lettered." },
    ),
    deliveries: count("How many times it was delivered before giving up."),
    firstSeen: timestampMs("When it was first delivered/seen (ms)."),
    failedAt: timestampMs("When it was dead-lettered (ms)."),
    plugin: Type.Optional(pluginName("The plugin that failed, when one did.")),
  },
  { title: "DeadLetter", description: "A message that failed permanently, published to sb.dead.<bot> (stream SB_DEAD)." },
);
/** A message that failed permanently. */
export type DeadLetter = Static<typeof DeadLetterSchema>;

/** Common `DeadLetter.reason.code` values (producers may use others, UPPER_SNAKE). */
export const DEAD_LETTER_REASONS = {
  /** The body failed validation (a ProtocolError code may be used instead). */
  INVALID: "PROTOCOL_INVALID",
  /** The body was not JSON. */
  BAD_JSON: "PROTOCOL_BAD_JSON",
  /** The message's `v` is not supported. */
  UNSUPPORTED_VERSION: "PROTOCOL_UNSUPPORTED_VERSION",
  /** Delivered `max_deliver` times without success. */
  MAX_DELIVER: "MAX_DELIVER",
  /** A plugin threw a non-retryable error. */
  PLUGIN_FAILED: "PLUGIN_FAILED",
  /** The broker could not carry out an outbound action (permanent). */
  SEND_FAILED: "SEND_FAILED",
} as const;

const codec = defineCodec("DeadLetter", DeadLetterSchema);

/** Returns the value typed as {@link DeadLetter} or throws `ProtocolError`. */
export const parseDeadLetter = codec.parse;
/** Type guard for {@link DeadLetter}. */
export const isDeadLetter = codec.is;
/** UTF-8 JSON → {@link DeadLetter}, or throws `ProtocolError`. */
export const decodeDeadLetter = codec.decode;
/** {@link DeadLetter} → UTF-8 JSON (validated first). */
export const encodeDeadLetter = codec.encode;

/** The codec (registry use). */
export const deadLetterCodec = codec;

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * The `payload` of a dead letter for the original body bytes: `{encoding: "json", json}` when the
 * body is UTF-8 JSON of at most 393,216 bytes (¾ of {@link MAX_DEAD_LETTER_PAYLOAD_LENGTH}) nesting
 * at most `MAX_DEAD_LETTER_JSON_DEPTH` (60) levels; otherwise `{encoding: "base64", data}` of the
 * first 393,216 bytes, with `truncated: true` when bytes were cut. The result always fits in a
 * `DeadLetter` that `encodeDeadLetter` accepts (and in a `DeadLetterPage`). Never throws.
 */
export function deadLetterPayload(body: Uint8Array): DeadLetterPayload {
  const maxBytes = (MAX_DEAD_LETTER_PAYLOAD_LENGTH / 4) * 3;
  if (body.byteLength <= maxBytes) {
    try {
      const text = utf8.decode(body);
      if (!nestsDeeperThan(text, MAX_DEAD_LETTER_JSON_DEPTH)) return { encoding: "json", json: JSON.parse(text) as unknown };
    } catch {
      // not UTF-8 JSON: base64 below
    }
  }
  const kept = body.byteLength > maxBytes ? body.subarray(0, maxBytes) : body;
  return { encoding: "base64", data: Buffer.from(kept.buffer, kept.byteOffset, kept.byteLength).toString("base64"), ...(kept !== body ? { truncated: true } : {}) };
}
