/**
 * Building blocks shared by the message schemas. Each is a function so every use is an independent
 * schema object (TypeBox schemas are plain JSON; sharing one object in two places is harmless, but
 * separate objects keep per-use descriptions).
 */
import { Type, type Static, type TLiteral, type TObject, type TProperties, type TSchema, type TUnion } from "@sinclair/typebox";
import {
  BOT_NAME_PATTERN,
  ERROR_CODE_PATTERN,
  ID_PATTERN,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_ID_LENGTH,
  MAX_PLUGIN_NAME_LENGTH,
  MAX_BOT_NAME_LENGTH,
  MAX_SAFE_INTEGER,
  PLUGIN_NAME_PATTERN,
  PROTOCOL_VERSION,
  SESSION_ID_LENGTH,
  SESSION_ID_PATTERN,
} from "../limits.js";

/** `v`: the major protocol version; only {@link PROTOCOL_VERSION} is accepted. */
export const versionField = (): TLiteral<typeof PROTOCOL_VERSION> =>
  Type.Literal(PROTOCOL_VERSION, { description: "Major protocol version. Receivers reject any other value." });

/** A Session ID of a standard account (66 lowercase hex, starts with 05). */
export const sessionId = (description: string) =>
  Type.String({ pattern: SESSION_ID_PATTERN, minLength: SESSION_ID_LENGTH, maxLength: SESSION_ID_LENGTH, description });

/** An id (message hash, idempotency key, attachment id...). */
export const id = (description: string) => Type.String({ pattern: ID_PATTERN, minLength: 1, maxLength: MAX_ID_LENGTH, description });

/** A bot name (subject token). */
export const botName = (description = "Bot name: the <bot> token of the subjects (SB_BOT).") =>
  Type.String({ pattern: BOT_NAME_PATTERN, minLength: 1, maxLength: MAX_BOT_NAME_LENGTH, description });

/** A plugin name. */
export const pluginName = (description: string) =>
  Type.String({ pattern: PLUGIN_NAME_PATTERN, minLength: 1, maxLength: MAX_PLUGIN_NAME_LENGTH, description });

/** Milliseconds since the Unix epoch. */
export const timestampMs = (description: string) => Type.Integer({ minimum: 0, maximum: MAX_SAFE_INTEGER, description });

/** A non-negative integer counter. */
export const count = (description: string) => Type.Integer({ minimum: 0, maximum: MAX_SAFE_INTEGER, description });

/** An UPPER_SNAKE error code. */
export const errorCode = (description: string) => Type.String({ pattern: ERROR_CODE_PATTERN, minLength: 1, maxLength: 64, description });

/** A human-readable error message. */
export const errorMessage = (description: string) => Type.String({ maxLength: MAX_ERROR_MESSAGE_LENGTH, description });

/** A JSON object with any members. */
export const jsonObject = (description: string) => Type.Record(Type.String(), Type.Unknown(), { description });

/** A reference to one Session message: its sent timestamp and its author (how Session locates messages). */
export const MessageRefSchema = Type.Object(
  {
    timestamp: timestampMs("Sent timestamp (Envelope.timestamp, ms) of the referenced message: its identity in Session."),
    author: sessionId("Session ID of the referenced message's author."),
  },
  { title: "MessageRef", description: "Locates a Session message by (sent timestamp, author), as quotes, reactions and unsend do." },
);
/** A reference to one Session message: (sent timestamp, author). */
export type MessageRef = Static<typeof MessageRefSchema>;

/**
 * A discriminated union as JSON Schema `oneOf` + the OpenAPI `discriminator` keyword (AJV uses it
 * for precise errors; other validators ignore it and still get a correct `oneOf`, because every
 * branch pins the tag with `const`).
 */
export function discriminatedUnion<const T extends TObject<TProperties>[]>(
  property: string,
  variants: [...T],
  options: { title: string; description: string },
) {
  return Type.Unsafe<Static<TUnion<T>>>({
    title: options.title,
    description: options.description,
    type: "object",
    required: [property],
    properties: { [property]: { type: "string", enum: tagValues(property, variants) } },
    discriminator: { propertyName: property },
    oneOf: variants,
  });
}

/** The tag values of a set of variants, read from their `const` tag schemas. */
export function tagValues(property: string, variants: readonly TSchema[]): string[] {
  return variants.map((variant) => {
    const props = (variant as { properties?: Record<string, { const?: unknown }> }).properties;
    const value = props?.[property]?.const;
    if (typeof value !== "string") throw new Error(`variant without a const ${property}`);
    return value;
  });
}
