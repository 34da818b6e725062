/**
 * Admin DTOs exchanged with the broker and plugin-hosts and served by the admin API.
 *
 * TODO(protocol): these are local stand-ins until `@session-bot/protocol` exports its admin DTOs
 * (bot info, conversation summary, message log entry, worker stats, stream/consumer lag, plugin
 * status, dead letters, paging, PluginManifest, plugin config record, ErrorReply). Replace each
 * with the protocol schema of the same role and delete this file; the route code only imports
 * the names below.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";

/** Bot, conversation and dead-letter ids: printable, bounded, no path separators. */
export const Id = Type.String({ minLength: 1, maxLength: 128, pattern: "^[A-Za-z0-9:._-]+$" });

/** Plugin names as used in KV keys and subjects. */
export const PluginName = Type.String({ minLength: 1, maxLength: 32, pattern: "^[a-z0-9][a-z0-9_-]{0,31}$" });

export const Timestamp = Type.String({ format: "date-time" });

/** The body of a failed services-API reply (with `Nats-Service-Error` headers). */
export const ErrorReply = Type.Object({
  code: Type.String({ minLength: 1 }),
  message: Type.String(),
});
export type ErrorReply = Static<typeof ErrorReply>;

/** Page request shared by list endpoints. */
export const PageQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type PageQuery = Static<typeof PageQuery>;

/** A page of `T`; `next` is the cursor of the following page, absent on the last one. */
export function Page<T extends TSchema>(item: T, $id: string) {
  return Type.Object({ items: Type.Array(item), next: Type.Optional(Type.String()) }, { $id });
}

export const BotInfo = Type.Object(
  {
    bot: Type.String(),
    sessionId: Type.String({ pattern: "^05[0-9a-f]{64}$" }),
    displayName: Type.Optional(Type.String()),
    network: Type.Optional(Type.String()),
    startedAt: Type.Optional(Timestamp),
    conversations: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { $id: "BotInfo" },
);
export type BotInfo = Static<typeof BotInfo>;

export const ProfileUpdate = Type.Object(
  { displayName: Type.String({ minLength: 1, maxLength: 64 }) },
  { $id: "ProfileUpdate", additionalProperties: false },
);
export type ProfileUpdate = Static<typeof ProfileUpdate>;

export const ConversationSummary = Type.Object(
  {
    id: Type.String(),
    kind: Type.Union([Type.Literal("direct"), Type.Literal("group")]),
    name: Type.Optional(Type.String()),
    blocked: Type.Boolean(),
    lastMessageAt: Type.Optional(Timestamp),
    messageCount: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  {},
);
export type ConversationSummary = Static<typeof ConversationSummary>;
export const ConversationPage = Page(ConversationSummary, "ConversationPage");
export type ConversationPage = Static<typeof ConversationPage>;

export const MessageLogEntry = Type.Object(
  {
    id: Type.String(),
    conversationId: Type.String(),
    direction: Type.Union([Type.Literal("in"), Type.Literal("out")]),
    kind: Type.String(),
    text: Type.Optional(Type.String()),
    status: Type.String(),
    at: Timestamp,
  },
  {},
);
export type MessageLogEntry = Static<typeof MessageLogEntry>;
export const MessagePage = Page(MessageLogEntry, "MessagePage");
export type MessagePage = Static<typeof MessagePage>;

/** TODO(protocol): the text limit comes from protocol's limits. */
export const MAX_TEXT_LENGTH = 4000;

export const SendText = Type.Object(
  {
    conversationId: Id,
    text: Type.String({ minLength: 1, maxLength: MAX_TEXT_LENGTH }),
  },
  { $id: "SendText", additionalProperties: false },
);
export type SendText = Static<typeof SendText>;

export const SendAccepted = Type.Object(
  { id: Type.String(), status: Type.String() },
  { $id: "SendAccepted" },
);
export type SendAccepted = Static<typeof SendAccepted>;

export const BlockResult = Type.Object({ id: Type.String(), blocked: Type.Boolean() }, { $id: "BlockResult" });
export type BlockResult = Static<typeof BlockResult>;

export const DeadLetter = Type.Object(
  {
    id: Type.String(),
    source: Type.String(),
    subject: Type.String(),
    reason: Type.String(),
    attempts: Type.Integer({ minimum: 0 }),
    at: Timestamp,
    retries: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  {},
);
export type DeadLetter = Static<typeof DeadLetter>;
export const DeadLetterPage = Page(DeadLetter, "DeadLetterPage");
export type DeadLetterPage = Static<typeof DeadLetterPage>;

export const RetryResult = Type.Object({ id: Type.String(), retried: Type.Boolean() }, { $id: "RetryResult" });
export type RetryResult = Static<typeof RetryResult>;

/** Per-plugin counters in a plugin-host's `$SRV.STATS` endpoint `data`. */
export const PluginCounters = Type.Object({
  name: Type.String(),
  handled: Type.Integer({ minimum: 0 }),
  errors: Type.Integer({ minimum: 0 }),
  avgLatencyMs: Type.Optional(Type.Number({ minimum: 0 })),
});
export type PluginCounters = Static<typeof PluginCounters>;

/** What a plugin-host returns as endpoint stats `data`. */
export const WorkerStatsData = Type.Object({
  inFlight: Type.Integer({ minimum: 0 }),
  plugins: Type.Array(PluginCounters),
});
export type WorkerStatsData = Static<typeof WorkerStatsData>;

/** Manifest of a plugin, written by plugin-host into KV `sb_plugin_manifests` (key = name). */
export const PluginManifest = Type.Object({
  name: Type.String(),
  version: Type.String(),
  description: Type.Optional(Type.String()),
  /** A JSON Schema the plugin's config must satisfy. */
  configSchema: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type PluginManifest = Static<typeof PluginManifest>;

/** The enable/config record of a plugin in KV `sb_plugins` (key = name). */
export const PluginConfigRecord = Type.Object({
  enabled: Type.Boolean(),
  config: Type.Record(Type.String(), Type.Unknown()),
  updatedAt: Timestamp,
});
export type PluginConfigRecord = Static<typeof PluginConfigRecord>;

/** TODO(protocol): whether a plugin without a record runs is protocol's decision; assumed on. */
export const PLUGIN_ENABLED_BY_DEFAULT = true;
