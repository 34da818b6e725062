/**
 * @session-bot/protocol — message schemas, NATS names and limits of the session_bot bus.
 *
 * Naming rule: for every top-level message `X` there is `XSchema` (TypeBox / JSON Schema), the
 * type `X`, `parseX(value): X`, `isX(value): value is X`, `decodeX(bytes): X` and
 * `encodeX(x): Uint8Array`. Errors are `ProtocolError` with a stable `code`.
 * See README.md and PROTOCOL.md.
 */

// errors
export { PROTOCOL_ERROR_CODES, ProtocolError, isProtocolError } from "./errors.js";
export type { ProtocolErrorCode, ProtocolErrorOptions, ProtocolProblem } from "./errors.js";

// limits and version
export {
  BOT_NAME_PATTERN,
  COMMAND_NAME_PATTERN,
  DEFAULT_PAGE_LIMIT,
  DEFAULT_PARTITIONS,
  ERROR_CODE_PATTERN,
  ID_PATTERN,
  MAX_ACTOR_LENGTH,
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENTS_PER_MESSAGE,
  MAX_BOT_NAME_LENGTH,
  MAX_BUS_MESSAGE_BYTES,
  MAX_COMMAND_NAME_LENGTH,
  MAX_COMMANDS_PER_PLUGIN,
  MAX_CONTENT_TYPE_LENGTH,
  MAX_CURSOR_LENGTH,
  MAX_DEAD_LETTER_JSON_DEPTH,
  MAX_DEAD_LETTER_PAYLOAD_LENGTH,
  MAX_DESCRIPTION_LENGTH,
  MAX_DISPLAY_NAME_LENGTH,
  MAX_EMOJI_LENGTH,
  MAX_ERROR_MESSAGE_LENGTH,
  MAX_FILE_NAME_LENGTH,
  MAX_ID_LENGTH,
  MAX_INBOUND_TEXT_LENGTH,
  MAX_JSON_DEPTH,
  MAX_PAGE_LIMIT,
  MAX_PARTITIONS,
  MAX_PLUGIN_CONFIG_DEPTH,
  MAX_PLUGIN_NAME_LENGTH,
  MAX_RECEIPT_TIMESTAMPS,
  MAX_SAFE_INTEGER,
  MAX_TEXT_LENGTH,
  MAX_USAGE_LENGTH,
  MAX_VERSION_LENGTH,
  PLUGIN_NAME_PATTERN,
  PROTOCOL_VERSION,
  SEMVER_PATTERN,
  SESSION_ID_LENGTH,
  SESSION_ID_PATTERN,
  SHA256_HEX_PATTERN,
} from "./limits.js";

// validation
export { MAX_REPORTED_PROBLEMS, ajv, decodeJson, problemsOf } from "./validation.js";
export type { AnyCodec, Codec } from "./validation.js";

// headers
export {
  CONTENT_TYPE_JSON,
  HEADER_CAUSATION_ID,
  HEADER_CONTENT_TYPE,
  HEADER_ERROR_CODE,
  HEADER_EXPECTED_STREAM,
  HEADER_MSG_ID,
  HEADER_PLUGIN,
  HEADER_PROTOCOL_VERSION,
  HEADER_SERVICE_ERROR,
  HEADER_SERVICE_ERROR_CODE,
} from "./headers.js";

// names
export {
  BROKER_ENDPOINTS,
  BROKER_SERVICE,
  DEAD_LETTER_STREAM,
  DEAD_LETTER_STREAM_SUBJECTS,
  INBOUND_STREAM,
  INBOUND_STREAM_SUBJECTS,
  OUTBOUND_STREAM,
  OUTBOUND_STREAM_SUBJECTS,
  PLUGIN_HOST_ENDPOINTS,
  PLUGIN_HOST_SERVICE,
  PLUGIN_MANIFESTS_BUCKET,
  PLUGINS_BUCKET,
  STREAMS,
  assertBotName,
  assertCommandName,
  assertPluginName,
  assertSubjectToken,
  brokerDeadLetterConsumer,
  brokerFilter,
  brokerOutboundConsumer,
  brokerQueueGroup,
  brokerSubject,
  deadLetterSubject,
  inboundFilter,
  inboundPartitionFilter,
  inboundSubject,
  inboundSubjectOf,
  isBotName,
  isCommandName,
  isPluginName,
  outboundFilter,
  outboundSubject,
  outboundSubjectOf,
  parseInboundSubject,
  parsePluginConfigKey,
  pluginConfigKey,
  pluginConfigKeyFilter,
  pluginHostConsumer,
  pluginHostFilter,
  pluginHostQueueGroup,
  pluginHostSubject,
  pluginManifestKey,
  pluginStateBucket,
  workerPresenceSubject,
} from "./names.js";
export type { BrokerEndpoint, InboundSubjectParts, StreamNames } from "./names.js";

// partitions and ids
export { assertPartitionCount, fnv1a32, partitionOf } from "./partition.js";
export { deriveActionId, retryMessageId } from "./ids.js";

// common schema parts
export { MessageRefSchema } from "./schemas/common.js";
export type { MessageRef } from "./schemas/common.js";

// inbound events
export {
  INBOUND_KINDS,
  InboundEventSchema,
  MessageEventSchema,
  ReactionEventSchema,
  ReadEventSchema,
  RequestResponseEventSchema,
  TypingEventSchema,
  UnsendEventSchema,
  decodeInboundEvent,
  encodeInboundEvent,
  isInboundEvent,
  parseInboundEvent,
} from "./schemas/inbound.js";
export type {
  InboundEvent,
  InboundKind,
  MessageEvent,
  ReactionEvent,
  ReadEvent,
  RequestResponseEvent,
  TypingEvent,
  UnsendEvent,
} from "./schemas/inbound.js";

// outbound actions
export {
  AcceptActionSchema,
  OUTBOUND_ACTIONS,
  OutboundActionSchema,
  ReactActionSchema,
  ReadActionSchema,
  SendActionSchema,
  SetDisplayNameActionSchema,
  TypingActionSchema,
  decodeOutboundAction,
  encodeOutboundAction,
  isOutboundAction,
  parseOutboundAction,
} from "./schemas/outbound.js";
export type {
  AcceptAction,
  OutboundAction,
  OutboundActionName,
  ReactAction,
  ReadAction,
  SendAction,
  SetDisplayNameAction,
  TypingAction,
} from "./schemas/outbound.js";

// attachments
export {
  AttachmentDescriptorSchema,
  AttachmentGetRequestSchema,
  AttachmentPutRequestSchema,
  AttachmentReplySchema,
  decodeAttachmentGetRequest,
  decodeAttachmentPutRequest,
  decodeAttachmentReply,
  encodeAttachmentGetRequest,
  encodeAttachmentPutRequest,
  encodeAttachmentReply,
  isAttachmentDescriptor,
  isAttachmentGetRequest,
  isAttachmentPutRequest,
  isAttachmentReply,
  parseAttachmentDescriptor,
  parseAttachmentGetRequest,
  parseAttachmentPutRequest,
  parseAttachmentReply,
} from "./schemas/attachment.js";
export type { AttachmentDescriptor, AttachmentGetRequest, AttachmentPutRequest, AttachmentReply } from "./schemas/attachment.js";
export {
  MAX_ATTACHMENT_HEADER_BYTES,
  decodeAttachmentGetPayload,
  decodeAttachmentPutPayload,
  encodeAttachmentGetPayload,
  encodeAttachmentPutPayload,
} from "./attachment-envelope.js";
export type { AttachmentEnvelope } from "./attachment-envelope.js";

// error replies
export {
  ErrorReplySchema,
  REPLY_ERROR_CODES,
  decodeErrorReply,
  encodeErrorReply,
  errorReply,
  errorReplyFromProtocolError,
  isErrorReply,
  parseErrorReply,
} from "./schemas/error-reply.js";
export type { ErrorReply, ReplyErrorCode } from "./schemas/error-reply.js";

// plugins
export {
  PluginCommandSchema,
  PluginConfigRecordSchema,
  PluginManifestSchema,
  assertPluginConfig,
  decodePluginConfigRecord,
  decodePluginManifest,
  encodePluginConfigRecord,
  encodePluginManifest,
  isPluginConfigRecord,
  isPluginManifest,
  parsePluginConfigRecord,
  parsePluginManifest,
} from "./schemas/plugin.js";
export type { PluginCommand, PluginConfigRecord, PluginManifest } from "./schemas/plugin.js";

// dead letters
export {
  DEAD_LETTER_REASONS,
  DeadLetterPayloadSchema,
  DeadLetterSchema,
  deadLetterPayload,
  decodeDeadLetter,
  encodeDeadLetter,
  isDeadLetter,
  parseDeadLetter,
} from "./schemas/dead-letter.js";
export type { DeadLetter, DeadLetterPayload } from "./schemas/dead-letter.js";

// admin DTOs
export {
  AckSchema,
  BotCountersSchema,
  BotInfoSchema,
  ConsumerLagSchema,
  ConversationPageSchema,
  ConversationRequestSchema,
  ConversationSummarySchema,
  DeadLetterPageSchema,
  DeadLetterRetryRequestSchema,
  EmptyRequestSchema,
  MESSAGE_STATUSES,
  MessageLogEntrySchema,
  MessageLogPageSchema,
  MessageLogQuerySchema,
  PageRequestSchema,
  PluginStatsSchema,
  PluginStatusListSchema,
  PluginStatusSchema,
  ProfileUpdateSchema,
  StreamStatusListSchema,
  StreamStatusSchema,
  WorkerInfoSchema,
  WorkerListSchema,
  WorkerStatsSchema,
  decodeAck,
  decodeBotInfo,
  decodeConversationPage,
  decodeConversationRequest,
  decodeDeadLetterPage,
  decodeDeadLetterRetryRequest,
  decodeEmptyRequest,
  decodeMessageLogPage,
  decodeMessageLogQuery,
  decodePageRequest,
  decodePluginStatusList,
  decodeProfileUpdate,
  decodeStreamStatusList,
  decodeWorkerList,
  decodeWorkerStats,
  encodeAck,
  encodeBotInfo,
  encodeConversationPage,
  encodeConversationRequest,
  encodeDeadLetterPage,
  encodeDeadLetterRetryRequest,
  encodeEmptyRequest,
  encodeMessageLogPage,
  encodeMessageLogQuery,
  encodePageRequest,
  encodePluginStatusList,
  encodeProfileUpdate,
  encodeStreamStatusList,
  encodeWorkerList,
  encodeWorkerStats,
  isAck,
  isBotInfo,
  isConversationPage,
  isConversationRequest,
  isDeadLetterPage,
  isDeadLetterRetryRequest,
  isEmptyRequest,
  isMessageLogPage,
  isMessageLogQuery,
  isPageRequest,
  isPluginStatusList,
  isProfileUpdate,
  isStreamStatusList,
  isWorkerList,
  isWorkerStats,
  parseAck,
  parseBotInfo,
  parseConversationPage,
  parseConversationRequest,
  parseDeadLetterPage,
  parseDeadLetterRetryRequest,
  parseEmptyRequest,
  parseMessageLogPage,
  parseMessageLogQuery,
  parsePageRequest,
  parsePluginStatusList,
  parseProfileUpdate,
  parseStreamStatusList,
  parseWorkerList,
  parseWorkerStats,
} from "./schemas/admin.js";
export type {
  Ack,
  BotCounters,
  BotInfo,
  ConsumerLag,
  ConversationPage,
  ConversationRequest,
  ConversationSummary,
  DeadLetterPage,
  DeadLetterRetryRequest,
  EmptyRequest,
  MessageLogEntry,
  MessageLogPage,
  MessageLogQuery,
  MessageStatus,
  PageRequest,
  PluginStats,
  PluginStatus,
  PluginStatusList,
  ProfileUpdate,
  StreamStatus,
  StreamStatusList,
  WorkerInfo,
  WorkerList,
  WorkerStats,
} from "./schemas/admin.js";

// worker presence and partition ownership
export {
  CONSUMER_SET_PATTERN,
  DEFAULT_PRESENCE_INTERVAL_MS,
  HOST_CONSUMER_SET,
  PRESENCE_EXPIRY_INTERVALS,
  WORKER_INSTANCE_PATTERN,
  WorkerPresenceSchema,
  decodeWorkerPresence,
  encodeWorkerPresence,
  isWorkerPresence,
  ownedPartitions,
  parseWorkerPresence,
} from "./schemas/presence.js";
export type { WorkerPresence } from "./schemas/presence.js";

// registry of top-level messages (JSON Schema generation)
export { MESSAGE_CODECS, SCHEMA_ID_BASE, jsonSchemaDocument, schemaFileName } from "./registry.js";
