// Drizzle schema of the broker's SQLite database. `drizzle-kit generate` turns changes into
// migrations under drizzle/ (committed); the broker applies them at start.
import { blob, index, integer, primaryKey, sqliteTable, text, uniqueIndex } from "drizzle-orm/sqlite-core";

/** One row per peer the bot has talked to (1:1 conversations keyed by Session ID). */
export const conversations = sqliteTable(
  "conversations",
  {
    sessionId: text("session_id").primaryKey(),
    /** The peer's last known display name (untrusted). */
    displayName: text("display_name"),
    /** The bot accepted the conversation (answered or auto-accepted the message request). */
    approved: integer("approved", { mode: "boolean" }).notNull().default(false),
    /** The peer accepted the bot (it wrote to the bot, or sent a request response). */
    approvedMe: integer("approved_me", { mode: "boolean" }).notNull().default(false),
    firstSeenAt: integer("first_seen_at").notNull(),
    lastMessageAt: integer("last_message_at").notNull(),
    inboundCount: integer("inbound_count").notNull().default(0),
    outboundCount: integer("outbound_count").notNull().default(0),
  },
  (t) => [index("conversations_last_message_idx").on(t.lastMessageAt)],
);

/** The message log: inbound (by storage hash) and outbound (by action id), with a status. */
export const messages = sqliteTable(
  "messages",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    conversationId: text("conversation_id").notNull(),
    direction: text("direction", { enum: ["in", "out"] }).notNull(),
    /** Inbound: the event id (storage-server message hash). Outbound: the action id. Unique per direction. */
    ref: text("ref").notNull(),
    /** InboundEvent.kind or OutboundAction.action. */
    kind: text("kind").notNull(),
    /** Text body (bounded by the protocol's text limits); null for non-text kinds. */
    body: text("body"),
    /** inbound: received → published | dropped; outbound: queued → sent | failed (protocol's MessageStatus). */
    status: text("status", { enum: ["received", "published", "dropped", "queued", "sent", "failed"] }).notNull(),
    errorCode: text("error_code"),
    errorMessage: text("error_message"),
    plugin: text("plugin"),
    causationId: text("causation_id"),
    /** Sent timestamp T (ms) of the Session message. */
    sentAt: integer("sent_at").notNull(),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [
    index("messages_conversation_idx").on(t.conversationId, t.id),
    index("messages_created_idx").on(t.createdAt),
    uniqueIndex("messages_ref_idx").on(t.direction, t.ref),
  ],
);

/** Inbound dedup keys (storage hash), kept longer than the swarm keeps a message. */
export const inboundDedup = sqliteTable(
  "inbound_dedup",
  {
    hash: text("hash").primaryKey(),
    /** `published` once SB_INBOUND acknowledged it, `dropped` when it was rejected on purpose. */
    outcome: text("outcome", { enum: ["published", "dropped"] }).notNull(),
    seenAt: integer("seen_at").notNull(),
  },
  (t) => [index("inbound_dedup_seen_idx").on(t.seenAt)],
);

/** Outbound idempotency: an action id is performed at most once. */
export const outboundKeys = sqliteTable(
  "outbound_keys",
  {
    actionId: text("action_id").primaryKey(),
    status: text("status", { enum: ["sending", "sent", "failed"] }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    /** Storage hash of what was stored on the recipient's swarm. */
    resultRef: text("result_ref"),
    error: text("error"),
    createdAt: integer("created_at").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [index("outbound_keys_updated_idx").on(t.updatedAt)],
);

/** Peers whose messages are dropped and who are never sent anything. */
export const blocklist = sqliteTable("blocklist", {
  sessionId: text("session_id").primaryKey(),
  reason: text("reason"),
  createdAt: integer("created_at").notNull(),
});

/** Dead letters consumed from SB_DEAD (the broker's own and plugin-host's). */
export const deadLetters = sqliteTable(
  "dead_letters",
  {
    id: text("id").primaryKey(),
    /** Original subject to republish to on retry. */
    subject: text("subject").notNull(),
    /** Original payload (the JSON document as received). */
    payload: blob("payload", { mode: "buffer" }).notNull(),
    /** Original message id (Nats-Msg-Id) when known. */
    originalId: text("original_id").notNull(),
    reason: text("reason").notNull(),
    source: text("source").notNull(),
    /** The full DeadLetter document as received. */
    document: text("document").notNull(),
    retries: integer("retries").notNull().default(0),
    createdAt: integer("created_at").notNull(),
    lastRetryAt: integer("last_retry_at"),
  },
  (t) => [index("dead_letters_created_idx").on(t.createdAt)],
);

/**
 * Attachments known to the broker: inbound pointers (from received messages) and outbound
 * uploads (from attachments.put). Keys and URLs stay here; plugins only see `id`.
 */
export const attachments = sqliteTable(
  "attachments",
  {
    id: text("id").primaryKey(),
    direction: text("direction", { enum: ["in", "out"] }).notNull(),
    /** JSON of the Session attachment pointer (url, key, digest, size, content type, name). */
    pointer: text("pointer").notNull(),
    size: integer("size").notNull(),
    contentType: text("content_type"),
    fileName: text("file_name"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("attachments_created_idx").on(t.createdAt)],
);

/**
 * Key/value storage handed to the Session client: its poll cursor (last hash per snode), the
 * hashes it has delivered, its profile, and the snode/swarm cache.
 */
export const sessionKv = sqliteTable(
  "session_kv",
  {
    namespace: text("namespace").notNull(),
    key: text("key").notNull(),
    value: text("value").notNull(),
    updatedAt: integer("updated_at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.namespace, t.key] })],
);
