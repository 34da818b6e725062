// The admin operations as plain functions over the broker's state: protocol DTOs in and out.
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import {
  DEFAULT_PAGE_LIMIT,
  HEADER_PROTOCOL_VERSION,
  OUTBOUND_STREAM,
  PROTOCOL_VERSION,
  encodeOutboundAction,
  outboundSubjectOf,
  parseDeadLetter,
  type Ack,
  type BotInfo,
  type ConversationPage,
  type DeadLetterPage,
  type MessageLogEntry,
  type MessageLogPage,
  type MessageLogQuery,
  type OutboundAction,
  type PageRequest,
} from "@session-bot/protocol";
import type { SessionClient } from "@session-bot/session";
import type { Counters } from "../counters.js";
import type { BrokerStore, MessageRow } from "../db/store.js";
import { retryDeadLetter } from "../deadletters/consumer.js";
import { BrokerError } from "../errors.js";

export interface AdminDeps {
  readonly bot: string;
  readonly version: string;
  readonly startedAt: number;
  readonly client: SessionClient;
  readonly js: JetStreamClient;
  readonly store: BrokerStore;
  readonly counters: Counters;
  readonly now?: () => number;
}

function pageArgs(r: PageRequest): [number, string | undefined] {
  return [r.limit ?? DEFAULT_PAGE_LIMIT, r.cursor];
}

function toLogEntry(m: MessageRow): MessageLogEntry {
  return {
    id: m.ref,
    conversation: m.conversationId,
    direction: m.direction,
    kind: m.kind,
    timestamp: m.sentAt,
    status: m.status,
    ...(m.body !== null ? { text: m.body } : {}),
    ...(m.plugin !== null ? { plugin: m.plugin } : {}),
    ...(m.causationId !== null ? { causationId: m.causationId } : {}),
    ...(m.errorCode !== null ? { error: { code: m.errorCode, message: m.errorMessage ?? "" } } : {}),
  };
}

/** The broker's admin API (what sb.broker.<bot>.* serves). */
export class AdminApi {
  readonly #d: AdminDeps;
  readonly #now: () => number;
  constructor(deps: AdminDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  info(): BotInfo {
    const d = this.#d;
    const now = this.#now();
    return {
      v: PROTOCOL_VERSION,
      bot: d.bot,
      sessionId: d.client.sessionId,
      displayName: d.client.profile?.displayName ?? "",
      version: d.version,
      startedAt: d.startedAt,
      uptimeMs: Math.max(0, now - d.startedAt),
      counters: { ...d.counters },
    };
  }

  conversations(r: PageRequest): ConversationPage {
    const page = this.#d.store.listConversations(...pageArgs(r));
    const blocked = new Set(this.#d.store.listBlocked());
    return {
      v: PROTOCOL_VERSION,
      items: page.items.map((c) => ({
        conversation: c.sessionId,
        ...(c.displayName !== null ? { displayName: c.displayName } : {}),
        approved: c.approved,
        approvedMe: c.approvedMe,
        blocked: blocked.has(c.sessionId),
        firstSeenAt: c.firstSeenAt,
        lastMessageAt: c.lastMessageAt,
        inboundCount: c.inboundCount,
        outboundCount: c.outboundCount,
      })),
      nextCursor: page.nextCursor ?? null,
    };
  }

  messages(q: MessageLogQuery): MessageLogPage {
    const page = this.#d.store.listMessages({ conversation: q.conversation, direction: q.direction }, ...pageArgs(q));
    return { v: PROTOCOL_VERSION, items: page.items.map(toLogEntry), nextCursor: page.nextCursor ?? null };
  }

  /** Queues `action` on SB_OUTBOUND (the broker's own consumer then performs it). */
  async send(action: OutboundAction): Promise<Ack> {
    if (action.bot !== this.#d.bot) throw new BrokerError("BROKER_REQUEST_INVALID", `action is for bot ${action.bot}, not ${this.#d.bot}`);
    const h = natsHeaders();
    h.set(HEADER_PROTOCOL_VERSION, String(PROTOCOL_VERSION));
    await this.#d.js.publish(outboundSubjectOf(action), encodeOutboundAction(action), { msgID: action.id, expect: { streamName: OUTBOUND_STREAM }, headers: h });
    return { v: PROTOCOL_VERSION, ok: true, id: action.id };
  }

  block(conversation: string): Ack {
    this.#d.store.block(conversation, "admin");
    return { v: PROTOCOL_VERSION, ok: true };
  }

  unblock(conversation: string): Ack {
    if (!this.#d.store.unblock(conversation)) throw new BrokerError("BROKER_NOT_FOUND", "that conversation is not blocked");
    return { v: PROTOCOL_VERSION, ok: true };
  }

  async profile(displayName: string): Promise<BotInfo> {
    try {
      await this.#d.client.setDisplayName(displayName);
    } catch (err) {
      throw new BrokerError("BROKER_REQUEST_INVALID", "the display name was refused", { cause: err });
    }
    return this.info();
  }

  deadLetters(r: PageRequest): DeadLetterPage {
    const page = this.#d.store.listDeadLetters(...pageArgs(r));
    return { v: PROTOCOL_VERSION, items: page.items.map((row) => parseDeadLetter(JSON.parse(row.document))), nextCursor: page.nextCursor ?? null };
  }

  async retryDeadLetter(id: string): Promise<Ack> {
    const msgId = await retryDeadLetter(this.#d.js, this.#d.store, id);
    return { v: PROTOCOL_VERSION, ok: true, id: msgId };
  }
}
