/**
 * A valid example of every top-level message, for tests in any package
 * (`import { SAMPLES } from "@session-bot/protocol/samples"`). Each call returns fresh objects,
 * so a test may mutate them.
 */
import type { DeadLetter } from "./schemas/dead-letter.js";
import type { ErrorReply } from "./schemas/error-reply.js";
import type { InboundEvent } from "./schemas/inbound.js";
import type { OutboundAction } from "./schemas/outbound.js";
import type { PluginConfigRecord, PluginManifest } from "./schemas/plugin.js";
import type { AttachmentDescriptor, AttachmentGetRequest, AttachmentPutRequest, AttachmentReply } from "./schemas/attachment.js";
import type {
  Ack,
  BotInfo,
  ConversationPage,
  ConversationRequest,
  DeadLetterPage,
  DeadLetterRetryRequest,
  EmptyRequest,
  MessageLogPage,
  MessageLogQuery,
  PageRequest,
  PluginStatusList,
  ProfileUpdate,
  StreamStatusList,
  WorkerList,
  WorkerStats,
} from "./schemas/admin.js";

/** A peer's Session ID used by the samples. */
export const SAMPLE_PEER = "05" + "4f".repeat(32);
/** The bot's Session ID used by the samples. */
export const SAMPLE_BOT_ID = "05" + "b0".repeat(32);
/** A Session message hash (43 base64 characters) used as the sample event id. */
export const SAMPLE_HASH = "q3ZJb4Ew2mZ0l1yP9mA4fJ8vD7dK0nQ6s2T5uW1xY3z";

const common = () => ({ v: 1 as const, id: SAMPLE_HASH, bot: "demo", conversation: SAMPLE_PEER, sender: SAMPLE_PEER, timestamp: 1_700_000_000_000, receivedAt: 1_700_000_000_250 });
const actionCommon = () => ({ v: 1 as const, id: "act-1", bot: "demo", causationId: SAMPLE_HASH, plugin: "echo" });

/** One valid example of each inbound event kind. */
export function sampleInboundEvents(): InboundEvent[] {
  return [
    {
      ...common(),
      kind: "message",
      text: "/echo hello",
      attachments: [{ id: "att-1", fileName: "cat.jpg", contentType: "image/jpeg", size: 12_345 }],
      quote: { timestamp: 1_699_999_999_000, author: SAMPLE_BOT_ID, text: "earlier" },
      senderName: "Alice",
    },
    { ...common(), kind: "reaction", op: "add", emoji: "👍", target: { timestamp: 1_699_999_999_000, author: SAMPLE_BOT_ID } },
    { ...common(), kind: "read", timestamps: [1_699_999_999_000, 1_699_999_999_500] },
    { ...common(), kind: "typing", state: "started" },
    { ...common(), kind: "request_response", approved: true, senderName: "Alice" },
    { ...common(), kind: "unsend", target: { timestamp: 1_699_999_999_000, author: SAMPLE_PEER } },
  ];
}

/** One valid example of each outbound action. */
export function sampleOutboundActions(): OutboundAction[] {
  return [
    { ...actionCommon(), action: "send", conversation: SAMPLE_PEER, text: "hello", attachments: ["att-9"], quote: { timestamp: 1_700_000_000_000, author: SAMPLE_PEER } },
    { ...actionCommon(), action: "react", conversation: SAMPLE_PEER, op: "remove", emoji: "❤️", target: { timestamp: 1_700_000_000_000, author: SAMPLE_PEER } },
    { ...actionCommon(), action: "read", conversation: SAMPLE_PEER, timestamps: [1_700_000_000_000] },
    { ...actionCommon(), action: "typing", conversation: SAMPLE_PEER, state: "stopped" },
    { ...actionCommon(), action: "accept", conversation: SAMPLE_PEER },
    { v: 1, id: "act-2", bot: "demo", action: "set_display_name", displayName: "Demo Bot" },
  ];
}

const descriptor = (): AttachmentDescriptor => ({ id: "att-1", fileName: "cat.jpg", contentType: "image/jpeg", size: 12_345, sha256: "ab".repeat(32) });

const deadLetter = (): DeadLetter => ({
  v: 1,
  id: "SB_INBOUND:42",
  bot: "demo",
  source: { stream: "SB_INBOUND", subject: "sb.in.demo.3.message", sequence: 42, consumer: "sb_host_demo_p3", messageId: SAMPLE_HASH },
  payload: { encoding: "json", json: { v: 1, kind: "message" } },
  reason: { code: "MAX_DELIVER", message: "handler failed 5 times" },
  deliveries: 5,
  firstSeen: 1_700_000_000_000,
  failedAt: 1_700_000_060_000,
  plugin: "echo",
});

/** Valid examples keyed by message name (the names of `MESSAGE_CODECS`). */
export function sampleMessages(): Record<string, unknown[]> {
  const manifest: PluginManifest = {
    v: 1,
    name: "echo",
    version: "1.2.3",
    description: "Repeats what you say.",
    commands: [{ name: "echo", description: "Repeat the text", usage: "/echo <text>", adminOnly: false }],
    configSchema: { type: "object", properties: { prefix: { type: "string", maxLength: 20 } }, additionalProperties: false },
  };
  const config: PluginConfigRecord = { v: 1, enabled: true, config: { prefix: "> " }, updatedAt: 1_700_000_000_000, updatedBy: "gateway:admin" };
  const errorReply: ErrorReply = { v: 1, code: "NOT_FOUND", message: "no such attachment", details: { attachmentId: "att-404" } };
  const get: AttachmentGetRequest = { v: 1, attachmentId: "att-1" };
  const put: AttachmentPutRequest = { v: 1, fileName: "report.pdf", contentType: "application/pdf", size: 1_000, sha256: "cd".repeat(32) };
  const reply: AttachmentReply = { v: 1, attachment: descriptor() };
  const empty: EmptyRequest = { v: 1 };
  const pageRequest: PageRequest = { v: 1, cursor: "c1", limit: 20 };
  const logQuery: MessageLogQuery = { v: 1, limit: 10, conversation: SAMPLE_PEER, direction: "in" };
  const convRequest: ConversationRequest = { v: 1, conversation: SAMPLE_PEER };
  const profile: ProfileUpdate = { v: 1, displayName: "Demo Bot" };
  const retry: DeadLetterRetryRequest = { v: 1, id: "SB_INBOUND:42" };
  const ack: Ack = { v: 1, ok: true, id: "SB_INBOUND:42:retry:1" };
  const botInfo: BotInfo = {
    v: 1,
    bot: "demo",
    sessionId: SAMPLE_BOT_ID,
    displayName: "Demo Bot",
    version: "0.1.0",
    startedAt: 1_700_000_000_000,
    uptimeMs: 60_000,
    counters: { received: 10, published: 9, sent: 8, failed: 1, dropped: 1, deadLettered: 0 },
  };
  const convPage: ConversationPage = {
    v: 1,
    items: [
      {
        conversation: SAMPLE_PEER,
        displayName: "Alice",
        approved: true,
        approvedMe: true,
        blocked: false,
        firstSeenAt: 1_700_000_000_000,
        lastMessageAt: 1_700_000_100_000,
        inboundCount: 3,
        outboundCount: 2,
      },
    ],
    nextCursor: null,
  };
  const logPage: MessageLogPage = {
    v: 1,
    items: [
      { id: SAMPLE_HASH, conversation: SAMPLE_PEER, direction: "in", kind: "message", timestamp: 1_700_000_000_000, status: "published", text: "hi" },
      {
        id: "act-1",
        conversation: SAMPLE_PEER,
        direction: "out",
        kind: "send",
        timestamp: 1_700_000_000_500,
        status: "failed",
        plugin: "echo",
        causationId: SAMPLE_HASH,
        error: { code: "UNAVAILABLE", message: "swarm unreachable" },
      },
    ],
    nextCursor: "next-1",
  };
  const dlPage: DeadLetterPage = { v: 1, items: [deadLetter()], nextCursor: null };
  const workerStats: WorkerStats = { v: 1, inFlight: 1, handled: 100, errors: 2, plugins: { echo: { handled: 50, errors: 1, averageLatencyMs: 3.5 } } };
  const workers: WorkerList = {
    v: 1,
    items: [{ id: "NXk3fj2", bot: "demo", instance: "host-a", version: "0.1.0", startedAt: 1_700_000_000_000, plugins: ["echo", "help"], stats: workerStats }],
  };
  const streams: StreamStatusList = {
    v: 1,
    items: [
      {
        stream: "SB_INBOUND",
        messages: 10,
        bytes: 2_048,
        firstSeq: 1,
        lastSeq: 10,
        consumers: [{ stream: "SB_INBOUND", consumer: "sb_host_demo_p0", pending: 2, ackPending: 1, redelivered: 0, waiting: 1 }],
      },
    ],
  };
  const plugins: PluginStatusList = {
    v: 1,
    items: [
      {
        name: "echo",
        version: "1.2.3",
        description: "Repeats what you say.",
        enabled: true,
        config: { prefix: "> " },
        updatedAt: 1_700_000_000_000,
        updatedBy: "gateway:admin",
        commands: manifest.commands,
        workers: 2,
      },
    ],
  };
  return {
    InboundEvent: sampleInboundEvents(),
    OutboundAction: sampleOutboundActions(),
    AttachmentDescriptor: [descriptor(), { id: "att-2", contentType: "application/octet-stream", size: 0 }],
    AttachmentGetRequest: [get],
    AttachmentPutRequest: [put, { v: 1, contentType: "text/plain", size: 10 }],
    AttachmentReply: [reply],
    ErrorReply: [errorReply, { v: 1, code: "INTERNAL", message: "" }],
    PluginManifest: [manifest, { v: 1, name: "ping", version: "0.0.1-beta.1", description: "", commands: [] }],
    PluginConfigRecord: [config],
    DeadLetter: [deadLetter(), { ...deadLetter(), payload: { encoding: "base64", data: "AAEC/w==", truncated: false } }],
    EmptyRequest: [empty],
    PageRequest: [pageRequest, { v: 1 }],
    MessageLogQuery: [logQuery],
    ConversationRequest: [convRequest],
    ProfileUpdate: [profile],
    DeadLetterRetryRequest: [retry],
    Ack: [ack, { v: 1, ok: true }],
    BotInfo: [botInfo],
    ConversationPage: [convPage],
    MessageLogPage: [logPage],
    DeadLetterPage: [dlPage],
    WorkerStats: [workerStats],
    WorkerList: [workers],
    StreamStatusList: [streams],
    PluginStatusList: [plugins],
    WorkerPresence: [
      { v: 1, instance: "host-a", set: "host", state: "up", intervalMs: 1_000, startedAt: 1_700_000_000_000 },
      { v: 1, instance: "py-worker.2", set: "py", state: "leaving", intervalMs: 500, startedAt: 0 },
    ],
  };
}
