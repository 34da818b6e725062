/**
 * Every NATS name of the bus: subjects, streams, consumers, queue groups, services, KV buckets and
 * keys. Names are built only by these functions; each validates every token it is given and throws
 * `ProtocolError` code `PROTOCOL_BAD_NAME` for an empty token, `.`, `*`, `>`, whitespace or
 * control characters, or a token outside its documented pattern.
 *
 * Subject layout (broad to narrow, variable tokens last):
 *
 * | thing | name |
 * | --- | --- |
 * | inbound events | stream `SB_INBOUND`, subject `sb.in.<bot>.<partition>.<kind>` |
 * | outbound actions | stream `SB_OUTBOUND`, subject `sb.out.<bot>.<action>` |
 * | dead letters | stream `SB_DEAD`, subject `sb.dead.<bot>` |
 * | broker endpoints | `sb.broker.<bot>.<endpoint>` (endpoint may have several tokens) |
 * | plugin-host endpoints | `sb.plugin-host.<bot>.<endpoint>` |
 * | plugin config | KV `sb_plugins`, key `<bot>.<plugin>` |
 * | plugin manifests | KV `sb_plugin_manifests`, key `<plugin>` |
 * | plugin state | KV `sb_state_<plugin>` |
 */
import { ProtocolError } from "./errors.js";
import { BOT_NAME_PATTERN, COMMAND_NAME_PATTERN, PLUGIN_NAME_PATTERN } from "./limits.js";
import { assertPartitionCount, partitionOf } from "./partition.js";
import { INBOUND_KINDS, type InboundEvent, type InboundKind } from "./schemas/inbound.js";
import { OUTBOUND_ACTIONS, type OutboundAction, type OutboundActionName } from "./schemas/outbound.js";

const BOT_RE = new RegExp(BOT_NAME_PATTERN);
const PLUGIN_RE = new RegExp(PLUGIN_NAME_PATTERN);
const COMMAND_RE = new RegExp(COMMAND_NAME_PATTERN);
const ENDPOINT_TOKEN_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** Stream of inbound events. */
export const INBOUND_STREAM = "SB_INBOUND";
/** Stream of outbound actions. */
export const OUTBOUND_STREAM = "SB_OUTBOUND";
/** Stream of dead letters. */
export const DEAD_LETTER_STREAM = "SB_DEAD";

/** Subjects of {@link INBOUND_STREAM} (all bots, all partitions, all kinds). */
export const INBOUND_STREAM_SUBJECTS: readonly string[] = Object.freeze(["sb.in.>"]);
/** Subjects of {@link OUTBOUND_STREAM}. */
export const OUTBOUND_STREAM_SUBJECTS: readonly string[] = Object.freeze(["sb.out.>"]);
/** Subjects of {@link DEAD_LETTER_STREAM}. */
export const DEAD_LETTER_STREAM_SUBJECTS: readonly string[] = Object.freeze(["sb.dead.>"]);

/** Name and subjects of one stream (what the broker creates; see PROTOCOL.md for settings). */
export interface StreamNames {
  /** Stream name. */
  readonly name: string;
  /** Subjects the stream captures. */
  readonly subjects: readonly string[];
  /** One-line description for the stream config. */
  readonly description: string;
}

/** The three streams, with their subjects. */
export const STREAMS: Readonly<{ inbound: StreamNames; outbound: StreamNames; deadLetter: StreamNames }> = Object.freeze({
  inbound: { name: INBOUND_STREAM, subjects: INBOUND_STREAM_SUBJECTS, description: "session_bot inbound events (broker → plugin-host)" },
  outbound: { name: OUTBOUND_STREAM, subjects: OUTBOUND_STREAM_SUBJECTS, description: "session_bot outbound actions (plugins/gateway → broker)" },
  deadLetter: { name: DEAD_LETTER_STREAM, subjects: DEAD_LETTER_STREAM_SUBJECTS, description: "session_bot dead letters" },
});

/** NATS services API (`$SRV`) name of the broker. */
export const BROKER_SERVICE = "sb-broker";
/** NATS services API (`$SRV`) name of every plugin-host worker. */
export const PLUGIN_HOST_SERVICE = "sb-plugin-host";

/** KV bucket of plugin enable/config records (`PluginConfigRecord`), key `<bot>.<plugin>`. */
export const PLUGINS_BUCKET = "sb_plugins";
/** KV bucket of plugin manifests (`PluginManifest`), key `<plugin>`. */
export const PLUGIN_MANIFESTS_BUCKET = "sb_plugin_manifests";

/** The broker's request/reply endpoints (the `<endpoint>` of `sb.broker.<bot>.<endpoint>`). */
export const BROKER_ENDPOINTS = Object.freeze({
  /** `{v}` → `BotInfo`. */
  info: "info",
  /** `PageRequest` → `ConversationPage`. */
  conversations: "conversations",
  /** `MessageLogQuery` → `MessageLogPage`. */
  messages: "messages",
  /** `OutboundAction` → `Ack` (the broker publishes it to SB_OUTBOUND on the gateway's behalf). */
  send: "send",
  /** `ConversationRequest` → `Ack`. */
  block: "block",
  /** `ConversationRequest` → `Ack`. */
  unblock: "unblock",
  /** `ProfileUpdate` → `BotInfo`. */
  profile: "profile",
  /** `PageRequest` → `DeadLetterPage`. */
  deadLettersList: "dead-letters.list",
  /** `DeadLetterRetryRequest` → `Ack`. */
  deadLettersRetry: "dead-letters.retry",
  /** Chunked: `AttachmentGetRequest` JSON → get envelope (`AttachmentReply` + bytes; see `decodeAttachmentGetPayload`). */
  attachmentsGet: "attachments.get",
  /** Chunked: put envelope (`AttachmentPutRequest` + bytes; see `encodeAttachmentPutPayload`) → `AttachmentReply` JSON. */
  attachmentsPut: "attachments.put",
} as const);
/** A broker endpoint name. */
export type BrokerEndpoint = (typeof BROKER_ENDPOINTS)[keyof typeof BROKER_ENDPOINTS];

function badName(what: string, reason: string): ProtocolError {
  return new ProtocolError("PROTOCOL_BAD_NAME", `${what} ${reason}`);
}

/**
 * Throws `PROTOCOL_BAD_NAME` unless `token` can be one NATS subject token: a non-empty string
 * without `.`, `*`, `>`, whitespace or control characters. Returns the token.
 */
export function assertSubjectToken(token: unknown, what = "token"): string {
  if (typeof token !== "string") throw badName(what, "must be a string");
  if (token.length === 0) throw badName(what, "must not be empty");
  if (token.includes(".")) throw badName(what, "must not contain '.'");
  if (token.includes("*")) throw badName(what, "must not contain '*'");
  if (token.includes(">")) throw badName(what, "must not contain '>'");
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/u.test(token)) throw badName(what, "must not contain whitespace or control characters");
  return token;
}

function assertPattern(token: unknown, what: string, re: RegExp, pattern: string): string {
  const t = assertSubjectToken(token, what);
  if (!re.test(t)) throw badName(what, `must match ${pattern}`);
  return t;
}

/** True when `name` is a valid bot name ({@link BOT_NAME_PATTERN}). */
export function isBotName(name: unknown): name is string {
  return typeof name === "string" && BOT_RE.test(name);
}
/** Returns `name` or throws `PROTOCOL_BAD_NAME` unless it is a valid bot name. */
export function assertBotName(name: unknown): string {
  return assertPattern(name, "bot name", BOT_RE, BOT_NAME_PATTERN);
}

/** True when `name` is a valid plugin name ({@link PLUGIN_NAME_PATTERN}). */
export function isPluginName(name: unknown): name is string {
  return typeof name === "string" && PLUGIN_RE.test(name);
}
/** Returns `name` or throws `PROTOCOL_BAD_NAME` unless it is a valid plugin name. */
export function assertPluginName(name: unknown): string {
  return assertPattern(name, "plugin name", PLUGIN_RE, PLUGIN_NAME_PATTERN);
}

/** True when `name` is a valid command name ({@link COMMAND_NAME_PATTERN}). */
export function isCommandName(name: unknown): name is string {
  return typeof name === "string" && COMMAND_RE.test(name);
}
/** Returns `name` or throws `PROTOCOL_BAD_NAME` unless it is a valid command name. */
export function assertCommandName(name: unknown): string {
  return assertPattern(name, "command name", COMMAND_RE, COMMAND_NAME_PATTERN);
}

function assertPartition(partition: unknown): string {
  if (typeof partition !== "number" || !Number.isInteger(partition) || partition < 0) {
    throw badName("partition", "must be a non-negative integer");
  }
  assertPartitionCount(partition + 1);
  return String(partition);
}

function assertKind(kind: unknown): InboundKind {
  const t = assertSubjectToken(kind, "inbound kind");
  if (!(INBOUND_KINDS as readonly string[]).includes(t)) throw badName("inbound kind", `must be one of ${INBOUND_KINDS.join(", ")}`);
  return t as InboundKind;
}

function assertAction(action: unknown): OutboundActionName {
  const t = assertSubjectToken(action, "outbound action");
  if (!(OUTBOUND_ACTIONS as readonly string[]).includes(t)) throw badName("outbound action", `must be one of ${OUTBOUND_ACTIONS.join(", ")}`);
  return t as OutboundActionName;
}

/** `sb.in.<bot>.<partition>.<kind>`: the subject of one inbound event. */
export function inboundSubject(bot: string, partition: number, kind: InboundKind): string {
  return `sb.in.${assertBotName(bot)}.${assertPartition(partition)}.${assertKind(kind)}`;
}

/** The subject of `event`: {@link inboundSubject} with `partitionOf(event.conversation, partitions)`. */
export function inboundSubjectOf(event: Pick<InboundEvent, "bot" | "conversation" | "kind">, partitions: number): string {
  return inboundSubject(event.bot, partitionOf(event.conversation, partitions), event.kind);
}

/** `sb.in.<bot>.>`: every inbound event of one bot. */
export function inboundFilter(bot: string): string {
  return `sb.in.${assertBotName(bot)}.>`;
}

/** `sb.in.<bot>.<partition>.>`: every inbound event of one partition (a plugin-host consumer's filter). */
export function inboundPartitionFilter(bot: string, partition: number): string {
  return `sb.in.${assertBotName(bot)}.${assertPartition(partition)}.>`;
}

/** The parts of an inbound subject. */
export interface InboundSubjectParts {
  readonly bot: string;
  readonly partition: number;
  readonly kind: InboundKind;
}

/** Splits `sb.in.<bot>.<partition>.<kind>`; throws `PROTOCOL_BAD_NAME` if it is not one. */
export function parseInboundSubject(subject: string): InboundSubjectParts {
  const parts = typeof subject === "string" ? subject.split(".") : [];
  if (parts.length !== 5 || parts[0] !== "sb" || parts[1] !== "in") throw badName("inbound subject", "must be sb.in.<bot>.<partition>.<kind>");
  const [, , bot, partitionText, kind] = parts as [string, string, string, string, string];
  if (!/^(0|[1-9][0-9]{0,3})$/.test(partitionText)) throw badName("partition", "must be a non-negative integer");
  const partition = Number(partitionText);
  inboundSubject(bot, partition, kind as InboundKind);
  return { bot, partition, kind: kind as InboundKind };
}

/** `sb.out.<bot>.<action>`: the subject of one outbound action. */
export function outboundSubject(bot: string, action: OutboundActionName): string {
  return `sb.out.${assertBotName(bot)}.${assertAction(action)}`;
}

/** The subject of `action` ({@link outboundSubject} of its `bot` and `action`). */
export function outboundSubjectOf(action: Pick<OutboundAction, "bot" | "action">): string {
  return outboundSubject(action.bot, action.action);
}

/** `sb.out.<bot>.>`: every outbound action of one bot (the broker's consumer filter). */
export function outboundFilter(bot: string): string {
  return `sb.out.${assertBotName(bot)}.>`;
}

/** `sb.dead.<bot>`: where dead letters of one bot are published. */
export function deadLetterSubject(bot: string): string {
  return `sb.dead.${assertBotName(bot)}`;
}

/**
 * `sb.broker.<bot>.<endpoint>`. `endpoint` is one of {@link BROKER_ENDPOINTS} or any
 * dot-separated tokens matching `^[a-z0-9][a-z0-9_-]{0,31}$`.
 */
export function brokerSubject(bot: string, endpoint: string): string {
  return `sb.broker.${assertBotName(bot)}.${endpointTokens(endpoint, "broker endpoint")}`;
}

function endpointTokens(endpoint: unknown, what: string): string {
  if (typeof endpoint !== "string" || endpoint.length === 0) throw badName(what, "must not be empty");
  for (const token of endpoint.split(".")) assertPattern(token, `${what} token`, ENDPOINT_TOKEN_RE, ENDPOINT_TOKEN_RE.source);
  return endpoint;
}

/** The plugin-host workers' own request/reply endpoints (the `<endpoint>` of `sb.plugin-host.<bot>.<endpoint>`). */
export const PLUGIN_HOST_ENDPOINTS = Object.freeze({
  /** `EmptyRequest` → `WorkerStats` of the worker that answers (queue group: one worker). */
  stats: "stats",
} as const);

/**
 * `sb.plugin-host.<bot>.<endpoint>`: a plugin-host service endpoint. `endpoint` is one of
 * {@link PLUGIN_HOST_ENDPOINTS} or dot-separated tokens matching `^[a-z0-9][a-z0-9_-]{0,31}$`.
 */
export function pluginHostSubject(bot: string, endpoint: string): string {
  return `sb.plugin-host.${assertBotName(bot)}.${endpointTokens(endpoint, "plugin-host endpoint")}`;
}

/**
 * `sb.plugin-host.<bot>.presence.<set>`: where the workers of one consumer set (`host`, or a worker
 * group) announce themselves with `WorkerPresence` heartbeats (core NATS, not stored) to split the
 * partitions between them. `set` matches `^[a-z0-9][a-z0-9_-]{0,31}$`.
 */
export function workerPresenceSubject(bot: string, set: string): string {
  return `sb.plugin-host.${assertBotName(bot)}.presence.${assertPattern(set, "consumer set", ENDPOINT_TOKEN_RE, ENDPOINT_TOKEN_RE.source)}`;
}

/** `sb.plugin-host.<bot>.>`: every plugin-host endpoint of one bot (for permissions). */
export function pluginHostFilter(bot: string): string {
  return `sb.plugin-host.${assertBotName(bot)}.>`;
}

/** `sb.broker.<bot>.>`: every broker endpoint of one bot (for permissions). */
export function brokerFilter(bot: string): string {
  return `sb.broker.${assertBotName(bot)}.>`;
}

/** Queue group of the broker's service endpoints: `sb-broker-<bot>`. */
export function brokerQueueGroup(bot: string): string {
  return `${BROKER_SERVICE}-${assertBotName(bot)}`;
}

/** Queue group of plugin-host service endpoints: `sb-plugin-host-<bot>`. */
export function pluginHostQueueGroup(bot: string): string {
  return `${PLUGIN_HOST_SERVICE}-${assertBotName(bot)}`;
}

/**
 * Durable consumer of one inbound partition on {@link INBOUND_STREAM}: `sb_host_<bot>_p<partition>`
 * (filter {@link inboundPartitionFilter}, `max_ack_pending` = 1; see PROTOCOL.md "Ordering").
 */
export function pluginHostConsumer(bot: string, partition: number): string {
  return `sb_host_${assertBotName(bot)}_p${assertPartition(partition)}`;
}

/** Durable consumer of the broker on {@link OUTBOUND_STREAM}: `sb_broker_out_<bot>` (filter {@link outboundFilter}). */
export function brokerOutboundConsumer(bot: string): string {
  return `sb_broker_out_${assertBotName(bot)}`;
}

/** Durable consumer of the broker on {@link DEAD_LETTER_STREAM}: `sb_broker_dead_<bot>` (filter {@link deadLetterSubject}). */
export function brokerDeadLetterConsumer(bot: string): string {
  return `sb_broker_dead_${assertBotName(bot)}`;
}

/** KV bucket of one plugin's state: `sb_state_<plugin>`. */
export function pluginStateBucket(plugin: string): string {
  return `sb_state_${assertPluginName(plugin)}`;
}

/** Key of a plugin's config record in {@link PLUGINS_BUCKET}: `<bot>.<plugin>`. */
export function pluginConfigKey(bot: string, plugin: string): string {
  return `${assertBotName(bot)}.${assertPluginName(plugin)}`;
}

/** Watch filter of every plugin config record of one bot in {@link PLUGINS_BUCKET}: `<bot>.>`. */
export function pluginConfigKeyFilter(bot: string): string {
  return `${assertBotName(bot)}.>`;
}

/** Splits a {@link PLUGINS_BUCKET} key `<bot>.<plugin>`; throws `PROTOCOL_BAD_NAME` if it is not one. */
export function parsePluginConfigKey(key: string): { readonly bot: string; readonly plugin: string } {
  const parts = typeof key === "string" ? key.split(".") : [];
  if (parts.length !== 2) throw badName("plugin config key", "must be <bot>.<plugin>");
  const [bot, plugin] = parts as [string, string];
  return { bot: assertBotName(bot), plugin: assertPluginName(plugin) };
}

/** Key of a plugin's manifest in {@link PLUGIN_MANIFESTS_BUCKET}: `<plugin>`. */
export function pluginManifestKey(plugin: string): string {
  return assertPluginName(plugin);
}
