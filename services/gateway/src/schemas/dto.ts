/**
 * The documents the admin API serves and accepts, built from `@session-bot/protocol`'s schemas
 * (written once there; the gateway only names them for OpenAPI and drops `v` from what an HTTP
 * client sends — the gateway adds it on the bus).
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import {
  AckSchema,
  BotInfoSchema,
  ConversationPageSchema,
  DeadLetterPageSchema,
  MAX_TEXT_LENGTH,
  MessageLogPageSchema,
  MessageLogQuerySchema,
  PageRequestSchema,
  PluginManifestSchema,
  PluginStatusListSchema,
  PluginStatusSchema,
  ProfileUpdateSchema,
  SendActionSchema,
  StreamStatusListSchema,
  WorkerListSchema,
  ConversationRequestSchema,
  DeadLetterRetryRequestSchema,
} from "@session-bot/protocol";

/** The same schema with an `$id`, so it becomes a named component of the OpenAPI document. */
function named<T extends TSchema>(schema: T, $id: string): T {
  return { ...schema, $id };
}

// ---------------------------------------------------------------- replies (protocol documents)

export const BotInfo = named(BotInfoSchema, "BotInfo");
export const ConversationPage = named(ConversationPageSchema, "ConversationPage");
export const MessageLogPage = named(MessageLogPageSchema, "MessageLogPage");
export const DeadLetterPage = named(DeadLetterPageSchema, "DeadLetterPage");
export const Ack = named(AckSchema, "Ack");
export const WorkerList = named(WorkerListSchema, "WorkerList");
export const StreamStatusList = named(StreamStatusListSchema, "StreamStatusList");
export const PluginStatus = named(PluginStatusSchema, "PluginStatus");
export const PluginStatusList = named(PluginStatusListSchema, "PluginStatusList");

/**
 * A plugin's manifest as served over HTTP. Protocol's schema checks `configSchema` against the
 * draft-07 meta-schema by `$ref`; here it is a plain object, so the OpenAPI document stays
 * self-contained (the manifest was validated when it was read from KV).
 */
export const PluginManifest = Type.Object(
  {
    ...PluginManifestSchema.properties,
    configSchema: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: "JSON Schema of the plugin's config object." })),
  },
  { $id: "PluginManifest", title: "PluginManifest" },
);

// ---------------------------------------------------------------- HTTP input (protocol minus `v`)

/** Path parameter: a conversation is the peer's Session ID. */
export const ConversationParams = Type.Object(
  { id: ConversationRequestSchema.properties.conversation },
  { additionalProperties: false },
);

/** Path parameter of a dead letter. */
export const DeadLetterParams = Type.Object({ id: DeadLetterRetryRequestSchema.properties.id }, { additionalProperties: false });

/** Paging query of list routes. */
export const PageQuery = Type.Object(
  { cursor: PageRequestSchema.properties.cursor, limit: PageRequestSchema.properties.limit },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuery>;

/** Query of a conversation's message log. */
export const MessageQuery = Type.Object(
  {
    cursor: MessageLogQuerySchema.properties.cursor,
    limit: MessageLogQuerySchema.properties.limit,
    direction: MessageLogQuerySchema.properties.direction,
  },
  { additionalProperties: false },
);
export type MessageQuery = Static<typeof MessageQuery>;

export const ProfileUpdate = Type.Object(
  { displayName: ProfileUpdateSchema.properties.displayName },
  { $id: "ProfileUpdate", additionalProperties: false },
);
export type ProfileUpdate = Static<typeof ProfileUpdate>;

/** `POST /admin/messages`: a text to one conversation; `id` makes a retried POST idempotent. */
export const SendText = Type.Object(
  {
    conversation: SendActionSchema.properties.conversation,
    text: Type.String({ minLength: 1, maxLength: MAX_TEXT_LENGTH, description: "Message text." }),
    id: Type.Optional(SendActionSchema.properties.id),
  },
  { $id: "SendText", additionalProperties: false },
);
export type SendText = Static<typeof SendText>;
