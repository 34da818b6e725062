/**
 * Admin DTOs: the request and reply documents of the broker's admin endpoints
 * (`sb.broker.<bot>.<endpoint>`), the plugin-host stats document, and what the gateway serves over
 * HTTP. Top-level documents carry `v`; items inside pages do not.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import {
  DEFAULT_PAGE_LIMIT,
  MAX_CURSOR_LENGTH,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_INBOUND_TEXT_LENGTH,
  MAX_PAGE_LIMIT,
  MAX_VERSION_LENGTH,
  PLUGIN_NAME_PATTERN,
} from "../limits.js";
import { defineCodec } from "../validation.js";
import { DeadLetterSchema } from "./dead-letter.js";
import { PluginCommandSchema } from "./plugin.js";
import { botName, count, errorCode, errorMessage, id, jsonObject, pluginName, sessionId, timestampMs, versionField } from "./common.js";

const nextCursor = () =>
  Type.Union([Type.String({ minLength: 1, maxLength: MAX_CURSOR_LENGTH }), Type.Null()], {
    description: "Opaque cursor of the next page; null on the last page.",
  });

/** A page of `items` with the cursor of the next page. */
function pageOf<T extends TSchema>(item: T, title: string, description: string) {
  return Type.Object({ v: versionField(), items: Type.Array(item, { maxItems: MAX_PAGE_LIMIT }), nextCursor: nextCursor() }, { title, description });
}

/** A complete (unpaged) list of `items`. */
function listOf<T extends TSchema>(item: T, title: string, description: string) {
  return Type.Object({ v: versionField(), items: Type.Array(item) }, { title, description });
}

// ---------------------------------------------------------------- requests

/** A request with no parameters (e.g. `info`). */
export const EmptyRequestSchema = Type.Object({ v: versionField() }, { title: "EmptyRequest", description: "A request without parameters." });
/** A request with no parameters. */
export type EmptyRequest = Static<typeof EmptyRequestSchema>;

/** Paging parameters. */
export const PageRequestSchema = Type.Object(
  {
    v: versionField(),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: MAX_CURSOR_LENGTH, description: "nextCursor of the previous page; absent for the first page." })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, description: `Page size (default ${DEFAULT_PAGE_LIMIT}).` })),
  },
  { title: "PageRequest", description: "Paging parameters of a list endpoint." },
);
/** Paging parameters. */
export type PageRequest = Static<typeof PageRequestSchema>;

/** Query of the message log (`messages` endpoint). */
export const MessageLogQuerySchema = Type.Object(
  {
    ...PageRequestSchema.properties,
    conversation: Type.Optional(sessionId("Only this conversation.")),
    direction: Type.Optional(Type.Union([Type.Literal("in"), Type.Literal("out")], { description: "Only inbound or outbound entries." })),
  },
  { title: "MessageLogQuery", description: "Paged query of the broker's message log, newest first." },
);
/** Query of the message log. */
export type MessageLogQuery = Static<typeof MessageLogQuerySchema>;

/** A request naming one conversation (`block`, `unblock`). */
export const ConversationRequestSchema = Type.Object(
  { v: versionField(), conversation: sessionId("The peer's Session ID.") },
  { title: "ConversationRequest", description: "A request about one conversation (block, unblock)." },
);
/** A request naming one conversation. */
export type ConversationRequest = Static<typeof ConversationRequestSchema>;

/** Change of the bot's profile (`profile` endpoint). */
export const ProfileUpdateSchema = Type.Object(
  { v: versionField(), displayName: Type.String({ minLength: 1, maxLength: MAX_DISPLAY_NAME_LENGTH, description: "New display name." }) },
  { title: "ProfileUpdate", description: "Change of the bot's profile." },
);
/** Change of the bot's profile. */
export type ProfileUpdate = Static<typeof ProfileUpdateSchema>;

/** Retry one dead letter (`dead-letters.retry`). */
export const DeadLetterRetryRequestSchema = Type.Object(
  { v: versionField(), id: id("The DeadLetter.id to republish.") },
  { title: "DeadLetterRetryRequest", description: "Republishes a dead letter's payload to its original subject." },
);
/** Retry one dead letter. */
export type DeadLetterRetryRequest = Static<typeof DeadLetterRetryRequestSchema>;

/** Success reply of a command endpoint (`send`, `block`, `unblock`, `dead-letters.retry`). */
export const AckSchema = Type.Object(
  {
    v: versionField(),
    ok: Type.Literal(true),
    id: Type.Optional(id("Id of what was created (action id, retry message id), if any.")),
  },
  { title: "Ack", description: "Success reply of a command endpoint. Failures answer an ErrorReply." },
);
/** Success reply of a command endpoint. */
export type Ack = Static<typeof AckSchema>;

// ---------------------------------------------------------------- broker documents

/** The broker's counters since start. */
export const BotCountersSchema = Type.Object(
  {
    received: count("Session messages received (after dedup)."),
    published: count("Inbound events published to SB_INBOUND."),
    sent: count("Outbound actions carried out."),
    failed: count("Outbound actions that failed permanently."),
    dropped: count("Inbound messages dropped (malformed, blocked, ignored kinds)."),
    deadLettered: count("Dead letters recorded."),
  },
  { title: "BotCounters" },
);
/** The broker's counters since start. */
export type BotCounters = Static<typeof BotCountersSchema>;

/** Reply of `info`: who the bot is and how it is doing. */
export const BotInfoSchema = Type.Object(
  {
    v: versionField(),
    bot: botName(),
    sessionId: sessionId("The bot's own Session ID."),
    displayName: Type.String({ maxLength: MAX_DISPLAY_NAME_LENGTH, description: "The bot's display name." }),
    version: Type.String({ maxLength: MAX_VERSION_LENGTH, description: "Broker version." }),
    startedAt: timestampMs("When the broker started (ms)."),
    uptimeMs: count("Milliseconds since start."),
    counters: BotCountersSchema,
  },
  { title: "BotInfo", description: "The bot's identity and counters (broker info endpoint)." },
);
/** The bot's identity and counters. */
export type BotInfo = Static<typeof BotInfoSchema>;

/** One conversation as the broker knows it. */
export const ConversationSummarySchema = Type.Object(
  {
    conversation: sessionId("The peer's Session ID."),
    displayName: Type.Optional(Type.String({ maxLength: MAX_DISPLAY_NAME_LENGTH, description: "The peer's last known display name (untrusted)." })),
    approved: Type.Boolean({ description: "The bot accepted the conversation." }),
    approvedMe: Type.Boolean({ description: "The peer accepted the bot." }),
    blocked: Type.Boolean({ description: "The operator blocked the peer (its messages are dropped)." }),
    firstSeenAt: timestampMs("First message in either direction (ms)."),
    lastMessageAt: timestampMs("Last message in either direction (ms)."),
    inboundCount: count("Messages received from the peer."),
    outboundCount: count("Messages sent to the peer."),
  },
  { title: "ConversationSummary" },
);
/** One conversation. */
export type ConversationSummary = Static<typeof ConversationSummarySchema>;

/** Status of a message log entry. */
export const MESSAGE_STATUSES = ["received", "published", "dropped", "queued", "sent", "failed"] as const;
/** Status of a message log entry: inbound received → published | dropped; outbound queued → sent | failed. */
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** One entry of the broker's message log. */
export const MessageLogEntrySchema = Type.Object(
  {
    id: id("Event id (inbound) or action id (outbound)."),
    conversation: sessionId("The peer's Session ID."),
    direction: Type.Union([Type.Literal("in"), Type.Literal("out")]),
    kind: Type.String({ minLength: 1, maxLength: 64, description: "InboundEvent.kind or OutboundAction.action." }),
    timestamp: timestampMs("Sent timestamp T (ms)."),
    status: Type.Union(
      MESSAGE_STATUSES.map((s) => Type.Literal(s)),
      { description: "inbound: received → published | dropped; outbound: queued → sent | failed." },
    ),
    text: Type.Optional(Type.String({ maxLength: MAX_INBOUND_TEXT_LENGTH, description: "Message text, when the broker keeps it." })),
    plugin: Type.Optional(pluginName("Plugin that produced an outbound entry.")),
    causationId: Type.Optional(id("Inbound event that caused an outbound entry.")),
    error: Type.Optional(Type.Object({ code: errorCode("Failure code."), message: errorMessage("Failure explanation.") })),
  },
  { title: "MessageLogEntry" },
);
/** One entry of the message log. */
export type MessageLogEntry = Static<typeof MessageLogEntrySchema>;

/** Page of conversations (reply of `conversations`). */
export const ConversationPageSchema = pageOf(ConversationSummarySchema, "ConversationPage", "A page of conversations, most recent first.");
/** Page of conversations. */
export type ConversationPage = Static<typeof ConversationPageSchema>;

/** Page of message log entries (reply of `messages`). */
export const MessageLogPageSchema = pageOf(MessageLogEntrySchema, "MessageLogPage", "A page of the message log, newest first.");
/** Page of message log entries. */
export type MessageLogPage = Static<typeof MessageLogPageSchema>;

/** Page of dead letters (reply of `dead-letters.list`). */
export const DeadLetterPageSchema = pageOf(DeadLetterSchema, "DeadLetterPage", "A page of dead letters, newest first.");
/** Page of dead letters. */
export type DeadLetterPage = Static<typeof DeadLetterPageSchema>;

// ---------------------------------------------------------------- workers, streams, plugins

/** Counters of one plugin in one worker. */
export const PluginStatsSchema = Type.Object(
  {
    handled: count("Events handled successfully."),
    errors: count("Events whose handler threw."),
    averageLatencyMs: Type.Number({ minimum: 0, description: "Average handling time (ms)." }),
  },
  { title: "PluginStats" },
);
/** Counters of one plugin in one worker. */
export type PluginStats = Static<typeof PluginStatsSchema>;

/**
 * What a plugin-host worker returns in its `$SRV` STATS endpoint `data`: in-flight count and
 * per-plugin counters.
 */
export const WorkerStatsSchema = Type.Object(
  {
    v: versionField(),
    inFlight: count("Events being handled right now."),
    handled: count("Events acked since start."),
    errors: count("Events naked or terminated since start."),
    plugins: Type.Record(Type.String({ pattern: PLUGIN_NAME_PATTERN }), PluginStatsSchema, { description: "Per plugin name." }),
  },
  { title: "WorkerStats", description: "Stats of one plugin-host worker ($SRV STATS endpoint data)." },
);
/** Stats of one plugin-host worker. */
export type WorkerStats = Static<typeof WorkerStatsSchema>;

/** One plugin-host worker as the gateway reports it (from `$SRV` INFO + STATS). */
export const WorkerInfoSchema = Type.Object(
  {
    id: Type.String({ minLength: 1, maxLength: 128, description: "The $SRV instance id." }),
    bot: botName(),
    instance: Type.Optional(Type.String({ maxLength: 128, description: "Instance name from the service metadata (host name, pod name)." })),
    version: Type.String({ maxLength: MAX_VERSION_LENGTH, description: "Worker version." }),
    startedAt: Type.Optional(timestampMs("When the worker started (ms).")),
    plugins: Type.Array(pluginName("A loaded plugin."), { description: "Plugins loaded by the worker." }),
    stats: Type.Optional(WorkerStatsSchema),
  },
  { title: "WorkerInfo" },
);
/** One plugin-host worker. */
export type WorkerInfo = Static<typeof WorkerInfoSchema>;

/** List of workers (gateway). */
export const WorkerListSchema = listOf(WorkerInfoSchema, "WorkerList", "Every plugin-host worker that answered $SRV.");
/** List of workers. */
export type WorkerList = Static<typeof WorkerListSchema>;

/** Lag of one durable consumer. */
export const ConsumerLagSchema = Type.Object(
  {
    stream: Type.String({ minLength: 1, maxLength: 128 }),
    consumer: Type.String({ minLength: 1, maxLength: 128 }),
    pending: count("Messages not yet delivered (num_pending): the lag."),
    ackPending: count("Delivered, not yet acked (num_ack_pending)."),
    redelivered: count("Redelivered, not yet acked (num_redelivered)."),
    waiting: count("Pull requests waiting (num_waiting)."),
  },
  { title: "ConsumerLag" },
);
/** Lag of one durable consumer. */
export type ConsumerLag = Static<typeof ConsumerLagSchema>;

/** State of one stream and its consumers. */
export const StreamStatusSchema = Type.Object(
  {
    stream: Type.String({ minLength: 1, maxLength: 128 }),
    messages: count("Messages stored."),
    bytes: count("Bytes stored."),
    firstSeq: count("First sequence."),
    lastSeq: count("Last sequence."),
    consumers: Type.Array(ConsumerLagSchema),
  },
  { title: "StreamStatus" },
);
/** State of one stream. */
export type StreamStatus = Static<typeof StreamStatusSchema>;

/** List of streams (gateway). */
export const StreamStatusListSchema = listOf(StreamStatusSchema, "StreamStatusList", "The bus streams and their consumers' lag.");
/** List of streams. */
export type StreamStatusList = Static<typeof StreamStatusListSchema>;

/** One plugin as the gateway reports it (manifest + config record + worker count). */
export const PluginStatusSchema = Type.Object(
  {
    name: pluginName("Plugin name."),
    version: Type.Optional(Type.String({ maxLength: MAX_VERSION_LENGTH, description: "From the manifest." })),
    description: Type.Optional(Type.String({ maxLength: 500, description: "From the manifest." })),
    enabled: Type.Boolean({ description: "From the config record (false when there is none)." }),
    config: jsonObject("From the config record ({} when there is none)."),
    updatedAt: Type.Optional(timestampMs("Config record write time.")),
    updatedBy: Type.Optional(Type.String({ maxLength: 128 })),
    commands: Type.Array(PluginCommandSchema),
    workers: count("Workers that loaded the plugin."),
  },
  { title: "PluginStatus" },
);
/** One plugin's status. */
export type PluginStatus = Static<typeof PluginStatusSchema>;

/** List of plugins (gateway). */
export const PluginStatusListSchema = listOf(PluginStatusSchema, "PluginStatusList", "Every known plugin.");
/** List of plugins. */
export type PluginStatusList = Static<typeof PluginStatusListSchema>;

// ---------------------------------------------------------------- codecs

const c = {
  emptyRequest: defineCodec("EmptyRequest", EmptyRequestSchema),
  pageRequest: defineCodec("PageRequest", PageRequestSchema),
  messageLogQuery: defineCodec("MessageLogQuery", MessageLogQuerySchema),
  conversationRequest: defineCodec("ConversationRequest", ConversationRequestSchema),
  profileUpdate: defineCodec("ProfileUpdate", ProfileUpdateSchema),
  deadLetterRetryRequest: defineCodec("DeadLetterRetryRequest", DeadLetterRetryRequestSchema),
  ack: defineCodec("Ack", AckSchema),
  botInfo: defineCodec("BotInfo", BotInfoSchema),
  conversationPage: defineCodec("ConversationPage", ConversationPageSchema),
  messageLogPage: defineCodec("MessageLogPage", MessageLogPageSchema),
  deadLetterPage: defineCodec("DeadLetterPage", DeadLetterPageSchema),
  workerStats: defineCodec("WorkerStats", WorkerStatsSchema),
  workerList: defineCodec("WorkerList", WorkerListSchema),
  streamStatusList: defineCodec("StreamStatusList", StreamStatusListSchema),
  pluginStatusList: defineCodec("PluginStatusList", PluginStatusListSchema),
};

/** parse/is/decode/encode of {@link EmptyRequest}. */
export const { parse: parseEmptyRequest, is: isEmptyRequest, decode: decodeEmptyRequest, encode: encodeEmptyRequest } = c.emptyRequest;
/** parse/is/decode/encode of {@link PageRequest}. */
export const { parse: parsePageRequest, is: isPageRequest, decode: decodePageRequest, encode: encodePageRequest } = c.pageRequest;
/** parse/is/decode/encode of {@link MessageLogQuery}. */
export const { parse: parseMessageLogQuery, is: isMessageLogQuery, decode: decodeMessageLogQuery, encode: encodeMessageLogQuery } = c.messageLogQuery;
/** parse/is/decode/encode of {@link ConversationRequest}. */
export const {
  parse: parseConversationRequest,
  is: isConversationRequest,
  decode: decodeConversationRequest,
  encode: encodeConversationRequest,
} = c.conversationRequest;
/** parse/is/decode/encode of {@link ProfileUpdate}. */
export const { parse: parseProfileUpdate, is: isProfileUpdate, decode: decodeProfileUpdate, encode: encodeProfileUpdate } = c.profileUpdate;
/** parse/is/decode/encode of {@link DeadLetterRetryRequest}. */
export const {
  parse: parseDeadLetterRetryRequest,
  is: isDeadLetterRetryRequest,
  decode: decodeDeadLetterRetryRequest,
  encode: encodeDeadLetterRetryRequest,
} = c.deadLetterRetryRequest;
/** parse/is/decode/encode of {@link Ack}. */
export const { parse: parseAck, is: isAck, decode: decodeAck, encode: encodeAck } = c.ack;
/** parse/is/decode/encode of {@link BotInfo}. */
export const { parse: parseBotInfo, is: isBotInfo, decode: decodeBotInfo, encode: encodeBotInfo } = c.botInfo;
/** parse/is/decode/encode of {@link ConversationPage}. */
export const { parse: parseConversationPage, is: isConversationPage, decode: decodeConversationPage, encode: encodeConversationPage } = c.conversationPage;
/** parse/is/decode/encode of {@link MessageLogPage}. */
export const { parse: parseMessageLogPage, is: isMessageLogPage, decode: decodeMessageLogPage, encode: encodeMessageLogPage } = c.messageLogPage;
/** parse/is/decode/encode of {@link DeadLetterPage}. */
export const { parse: parseDeadLetterPage, is: isDeadLetterPage, decode: decodeDeadLetterPage, encode: encodeDeadLetterPage } = c.deadLetterPage;
/** parse/is/decode/encode of {@link WorkerStats}. */
export const { parse: parseWorkerStats, is: isWorkerStats, decode: decodeWorkerStats, encode: encodeWorkerStats } = c.workerStats;
/** parse/is/decode/encode of {@link WorkerList}. */
export const { parse: parseWorkerList, is: isWorkerList, decode: decodeWorkerList, encode: encodeWorkerList } = c.workerList;
/** parse/is/decode/encode of {@link StreamStatusList}. */
export const { parse: parseStreamStatusList, is: isStreamStatusList, decode: decodeStreamStatusList, encode: encodeStreamStatusList } = c.streamStatusList;
/** parse/is/decode/encode of {@link PluginStatusList}. */
export const { parse: parsePluginStatusList, is: isPluginStatusList, decode: decodePluginStatusList, encode: encodePluginStatusList } = c.pluginStatusList;

/** Codecs of this module (registry use). */
export const adminCodecs = c;
