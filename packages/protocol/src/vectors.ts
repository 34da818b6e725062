/**
 * Cross-language conformance vectors, written by the build to `vectors/*.json` (committed): valid
 * samples, invalid values with the error code and a JSON pointer the reference implementation
 * reports, partition and action-id vectors. A port (e.g. the Python SDK) runs them against its
 * own validator and functions.
 */
import { deriveActionId } from "./ids.js";
import { fnv1a32, partitionOf } from "./partition.js";
import { SAMPLE_HASH, SAMPLE_PEER, sampleInboundEvents, sampleMessages, sampleOutboundActions } from "./samples.js";
import type { ProtocolErrorCode } from "./errors.js";

/** One invalid value and what a receiver must answer. */
export interface InvalidVector {
  readonly description: string;
  /** Message name (`InboundEvent`, ...): the schema file is `schemaFileName(message)`. */
  readonly message: string;
  readonly value: unknown;
  /** The ProtocolError code. */
  readonly code: ProtocolErrorCode;
  /** A JSON pointer that must be among the reported problems. */
  readonly pointer: string;
}

const ev = (i: number) => sampleInboundEvents()[i] as unknown as Record<string, unknown>;
const act = (i: number) => sampleOutboundActions()[i] as unknown as Record<string, unknown>;
const without = (o: Record<string, unknown>, key: string) => {
  const copy = { ...o };
  delete copy[key];
  return copy;
};

/** The curated invalid vectors. */
export function invalidVectors(): InvalidVector[] {
  const m = sampleMessages();
  const first = (name: string) => m[name]![0] as Record<string, unknown>;
  return [
    { description: "not an object", message: "InboundEvent", value: [], code: "PROTOCOL_INVALID", pointer: "" },
    { description: "missing v", message: "InboundEvent", value: without(ev(0), "v"), code: "PROTOCOL_INVALID", pointer: "/v" },
    { description: "v is a string", message: "InboundEvent", value: { ...ev(0), v: "1" }, code: "PROTOCOL_INVALID", pointer: "/v" },
    { description: "other major version", message: "InboundEvent", value: { ...ev(0), v: 2 }, code: "PROTOCOL_UNSUPPORTED_VERSION", pointer: "/v" },
    { description: "unknown kind", message: "InboundEvent", value: { ...ev(0), kind: "call" }, code: "PROTOCOL_UNKNOWN_KIND", pointer: "/kind" },
    { description: "missing kind", message: "InboundEvent", value: without(ev(0), "kind"), code: "PROTOCOL_INVALID", pointer: "/kind" },
    { description: "inbound text over 10,000 characters", message: "InboundEvent", value: { ...ev(0), text: "x".repeat(10_001) }, code: "PROTOCOL_INVALID", pointer: "/text" },
    { description: "11 attachments", message: "InboundEvent", value: { ...ev(0), attachments: Array.from({ length: 11 }, (_, i) => ({ id: `a${i}`, contentType: "a/b", size: 1 })) }, code: "PROTOCOL_INVALID", pointer: "/attachments" },
    { description: "attachment over 10,000,000 bytes", message: "InboundEvent", value: { ...ev(0), attachments: [{ id: "a", contentType: "a/b", size: 10_000_001 }] }, code: "PROTOCOL_INVALID", pointer: "/attachments/0/size" },
    { description: "attachment without id", message: "InboundEvent", value: { ...ev(0), attachments: [{ contentType: "a/b", size: 1 }] }, code: "PROTOCOL_INVALID", pointer: "/attachments/0/id" },
    { description: "uppercase Session ID", message: "InboundEvent", value: { ...ev(0), conversation: SAMPLE_PEER.toUpperCase() }, code: "PROTOCOL_INVALID", pointer: "/conversation" },
    { description: "03 (group) id as sender", message: "InboundEvent", value: { ...ev(0), sender: "03" + SAMPLE_PEER.slice(2) }, code: "PROTOCOL_INVALID", pointer: "/sender" },
    { description: "fractional timestamp", message: "InboundEvent", value: { ...ev(0), timestamp: 1.5 }, code: "PROTOCOL_INVALID", pointer: "/timestamp" },
    { description: "bad reaction op", message: "InboundEvent", value: { ...ev(1), op: "toggle" }, code: "PROTOCOL_INVALID", pointer: "/op" },
    { description: "empty receipt", message: "InboundEvent", value: { ...ev(2), timestamps: [] }, code: "PROTOCOL_INVALID", pointer: "/timestamps" },
    { description: "bot name with a dot", message: "InboundEvent", value: { ...ev(3), bot: "a.b" }, code: "PROTOCOL_INVALID", pointer: "/bot" },
    { description: "send text of 2,001 characters", message: "OutboundAction", value: { ...act(0), text: "x".repeat(2_001) }, code: "PROTOCOL_INVALID", pointer: "/text" },
    { description: "send with neither text nor attachments", message: "OutboundAction", value: { ...without(act(0), "attachments"), text: "" }, code: "PROTOCOL_INVALID", pointer: "/text" },
    { description: "send without conversation", message: "OutboundAction", value: without(act(0), "conversation"), code: "PROTOCOL_INVALID", pointer: "/conversation" },
    { description: "unknown action", message: "OutboundAction", value: { ...act(0), action: "delete" }, code: "PROTOCOL_UNKNOWN_KIND", pointer: "/action" },
    { description: "id with a space", message: "OutboundAction", value: { ...act(0), id: "a b" }, code: "PROTOCOL_INVALID", pointer: "/id" },
    { description: "uppercase plugin name", message: "OutboundAction", value: { ...act(0), plugin: "Echo" }, code: "PROTOCOL_INVALID", pointer: "/plugin" },
    { description: "display name of 101 characters", message: "OutboundAction", value: { ...act(5), displayName: "n".repeat(101) }, code: "PROTOCOL_INVALID", pointer: "/displayName" },
    { description: "emoji of 33 characters", message: "OutboundAction", value: { ...act(1), emoji: "x".repeat(33) }, code: "PROTOCOL_INVALID", pointer: "/emoji" },
    { description: "lowercase error code", message: "ErrorReply", value: { ...first("ErrorReply"), code: "not_found" }, code: "PROTOCOL_INVALID", pointer: "/code" },
    { description: "non-semver plugin version", message: "PluginManifest", value: { ...first("PluginManifest"), version: "1.0" }, code: "PROTOCOL_INVALID", pointer: "/version" },
    { description: "command name with a slash", message: "PluginManifest", value: { ...first("PluginManifest"), commands: [{ name: "/echo", description: "" }] }, code: "PROTOCOL_INVALID", pointer: "/commands/0/name" },
    { description: "config record without updatedBy", message: "PluginConfigRecord", value: without(first("PluginConfigRecord"), "updatedBy"), code: "PROTOCOL_INVALID", pointer: "/updatedBy" },
    { description: "dead letter with unknown payload encoding", message: "DeadLetter", value: { ...first("DeadLetter"), payload: { encoding: "hex", data: "00" } }, code: "PROTOCOL_INVALID", pointer: "/payload/encoding" },
    { description: "put request with a bad sha256", message: "AttachmentPutRequest", value: { ...first("AttachmentPutRequest"), sha256: "XYZ" }, code: "PROTOCOL_INVALID", pointer: "/sha256" },
    { description: "page limit 201", message: "PageRequest", value: { v: 1, limit: 201 }, code: "PROTOCOL_INVALID", pointer: "/limit" },
    { description: "page without nextCursor", message: "ConversationPage", value: without(first("ConversationPage"), "nextCursor"), code: "PROTOCOL_INVALID", pointer: "/nextCursor" },
  ];
}

const PARTITION_INPUTS = ["", "a", "foobar", "05" + "0".repeat(64), "05" + "a".repeat(64), "05" + "f".repeat(64), SAMPLE_PEER, "héllo"];

/** Every vector file, by file name. */
export function conformanceVectors(): Record<string, unknown> {
  return {
    "valid.json": sampleMessages(),
    "invalid.json": invalidVectors(),
    // partitionOf refuses an empty conversation, so "" only checks the hash.
    "partition.json": PARTITION_INPUTS.map((input) =>
      input === ""
        ? { input, fnv1a32: fnv1a32(input) }
        : { input, fnv1a32: fnv1a32(input), partitions: Object.fromEntries([1, 2, 4, 7, 16, 1024].map((n) => [String(n), partitionOf(input, n)])) },
    ),
    "action-id.json": [
      [SAMPLE_HASH, "echo", 0],
      [SAMPLE_HASH, "echo", 1],
      ["evt-1", "help", 0],
      ["SB_INBOUND:42:retry:1", "my-plugin_2", 17],
    ].map(([causationId, plugin, index]) => ({ causationId, plugin, index, id: deriveActionId(causationId as string, plugin as string, index as number) })),
  };
}
