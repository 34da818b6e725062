/**
 * The list of top-level messages: drives `scripts/generate-schemas.ts` (one JSON Schema file each)
 * and the tests that every schema compiles and round-trips.
 */
import { adminCodecs } from "./schemas/admin.js";
import { attachmentCodecs } from "./schemas/attachment.js";
import { deadLetterCodec } from "./schemas/dead-letter.js";
import { errorReplyCodec } from "./schemas/error-reply.js";
import { inboundEventCodec } from "./schemas/inbound.js";
import { outboundActionCodec } from "./schemas/outbound.js";
import { pluginCodecs } from "./schemas/plugin.js";
import { workerPresenceCodec } from "./schemas/presence.js";
import type { AnyCodec } from "./validation.js";

/** Every top-level message codec, in documentation order. */
export const MESSAGE_CODECS: readonly AnyCodec[] = Object.freeze([
  inboundEventCodec,
  outboundActionCodec,
  attachmentCodecs.descriptorCodec,
  attachmentCodecs.getCodec,
  attachmentCodecs.putCodec,
  attachmentCodecs.replyCodec,
  errorReplyCodec,
  pluginCodecs.manifestCodec,
  pluginCodecs.configCodec,
  deadLetterCodec,
  adminCodecs.emptyRequest,
  adminCodecs.pageRequest,
  adminCodecs.messageLogQuery,
  adminCodecs.conversationRequest,
  adminCodecs.profileUpdate,
  adminCodecs.deadLetterRetryRequest,
  adminCodecs.ack,
  adminCodecs.botInfo,
  adminCodecs.conversationPage,
  adminCodecs.messageLogPage,
  adminCodecs.deadLetterPage,
  adminCodecs.workerStats,
  adminCodecs.workerList,
  adminCodecs.streamStatusList,
  adminCodecs.pluginStatusList,
  workerPresenceCodec,
]);

/** `InboundEvent` → `inbound-event.schema.json`. */
export function schemaFileName(messageName: string): string {
  return `${messageName.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase()}.schema.json`;
}

/** Base of the `$id` of the published JSON Schema files. */
export const SCHEMA_ID_BASE = "https://session-bot.invalid/protocol/v1/";

/**
 * The language-neutral JSON Schema document of one message: the TypeBox schema as plain JSON,
 * with `$schema` (draft-07) and `$id` added.
 */
export function jsonSchemaDocument(codec: Pick<AnyCodec, "name" | "schema">): Record<string, unknown> {
  const plain = JSON.parse(JSON.stringify(codec.schema)) as Record<string, unknown>;
  return { $schema: "http://json-schema.org/draft-07/schema#", $id: `${SCHEMA_ID_BASE}${schemaFileName(codec.name)}`, ...plain };
}
