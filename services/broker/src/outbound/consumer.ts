// The outbound path: a durable pull consumer on SB_OUTBOUND. Each action is validated, claimed
// by id (never performed twice), performed through the Session client, recorded, then acked.
// Transient failure → nak with backoff; permanent → DeadLetter first, then term.
import type { ConsumerMessages, JetStreamClient, JsMsg } from "@nats-io/jetstream";
import { HEADER_MSG_ID, OUTBOUND_STREAM, decodeOutboundAction, isProtocolError, type OutboundAction } from "@session-bot/protocol";
import type { SessionClient } from "@session-bot/session";
import type { Logger } from "pino";
import type { Counters } from "../counters.js";
import type { BrokerStore } from "../db/store.js";
import { buildDeadLetter, publishDeadLetter } from "../deadletters/publish.js";
import type { BrokerError } from "../errors.js";
import type { BrokerMetrics } from "../metrics.js";
import { performAction } from "./perform.js";

export interface OutboundDeps {
  readonly bot: string;
  readonly consumer: string;
  readonly maxDeliver: number;
  readonly backoffMs: readonly number[];
  readonly concurrency: number;
  /** The consumer's ack wait: an action in the broker's hands reports progress three times per ack wait. */
  readonly ackWaitMs: number;
  readonly maxTextLength: number;
  readonly js: JetStreamClient;
  readonly client: SessionClient;
  readonly store: BrokerStore;
  readonly metrics: BrokerMetrics;
  readonly counters: Counters;
  readonly log: Logger;
}

/** Runs the outbound consumer until stopped; actions of one conversation run one at a time, in order. */
export class OutboundWorker {
  readonly #d: OutboundDeps;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;
  #stopping = false;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #chains = new Map<string, Promise<void>>();

  constructor(deps: OutboundDeps) {
    this.#d = deps;
  }

  /** Number of actions being handled now. */
  get inFlight(): number {
    return this.#inFlight.size;
  }

  async start(): Promise<void> {
    const consumer = await this.#d.js.consumers.get(OUTBOUND_STREAM, this.#d.consumer);
    this.#messages = await consumer.consume({ max_messages: this.#d.concurrency });
    this.#loop = this.#run(this.#messages);
  }

  /** Stops taking actions, then waits for those in flight to finish (sends are not cut). */
  async stop(): Promise<void> {
    this.#stopping = true;
    await this.#messages?.close();
    await this.#loop;
    await Promise.allSettled([...this.#inFlight]);
  }

  async #run(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      if (this.#stopping) {
        m.nak();
        continue;
      }
      // Bound concurrency: wait while `concurrency` actions are in flight.
      while (this.#inFlight.size >= this.#d.concurrency) await Promise.race(this.#inFlight);
      const key = conversationKey(m.data);
      const prev = this.#chains.get(key) ?? Promise.resolve();
      // Progress reports from arrival to the end of its handling: an action waiting behind its
      // conversation's earlier ones, or sending to a slow swarm, is not redelivered meanwhile
      // (the ack wait then only decides how soon a dead broker's actions go to another).
      const heartbeat = setInterval(() => m.working(), Math.max(250, Math.floor(this.#d.ackWaitMs / 3)));
      const p: Promise<void> = prev.then(() => this.handle(m)).finally(() => clearInterval(heartbeat));
      const tracked = p.finally(() => {
        this.#inFlight.delete(tracked);
        if (this.#chains.get(key) === p) this.#chains.delete(key);
      });
      this.#chains.set(key, p);
      this.#inFlight.add(tracked);
    }
  }

  /** Handles one delivered message. Never throws. */
  async handle(m: JsMsg): Promise<void> {
    const d = this.#d;
    let action: OutboundAction;
    try {
      action = decodeOutboundAction(m.data);
      if (action.bot !== d.bot) throw Object.assign(new Error(`action for bot ${action.bot} on this broker's subject`), { code: "PROTOCOL_INVALID" });
    } catch (err) {
      const code = isProtocolError(err) ? err.code : "PROTOCOL_INVALID";
      d.metrics.outbound.inc({ action: "unknown", result: "invalid" });
      d.log.warn({ seq: m.seq, subject: m.subject, code }, "invalid outbound action");
      await this.#deadLetter(m, code, err instanceof Error ? err.message : "invalid action", undefined);
      return;
    }

    const claim = d.store.claimOutbound(action.id);
    if (claim.state === "sent" || claim.state === "failed") {
      // Already done (redelivery after a lost ack, or a republish): never perform twice.
      d.metrics.outbound.inc({ action: action.action, result: "duplicate" });
      d.log.debug({ id: action.id, state: claim.state }, "duplicate outbound action acknowledged");
      m.ack();
      return;
    }
    const conversation = "conversation" in action ? action.conversation : undefined;
    if (conversation) {
      d.store.recordMessage({
        conversationId: conversation,
        direction: "out",
        ref: action.id,
        kind: action.action,
        body: action.action === "send" ? action.text : null,
        status: "queued",
        sentAt: Date.now(),
        plugin: action.plugin ?? null,
        causationId: action.causationId ?? null,
      });
    }
    try {
      const done = await performAction({ client: d.client, store: d.store, maxTextLength: d.maxTextLength }, action);
      d.store.transaction(() => {
        d.store.finishOutbound(action.id, { status: "sent", resultRef: done.ref });
        if (conversation) {
          d.store.setMessageStatus("out", action.id, "sent");
          if (action.action === "send") d.store.touchConversation(conversation, done.timestamp ?? Date.now(), "out");
        }
      });
      d.counters.sent++;
      d.metrics.outbound.inc({ action: action.action, result: "sent" });
      m.ack();
    } catch (e) {
      const err = e as BrokerError;
      const deliveries = m.info.deliveryCount;
      if (err.transient && deliveries < d.maxDeliver) {
        const delay = d.backoffMs[Math.min(deliveries - 1, d.backoffMs.length - 1)] ?? 1000;
        d.metrics.outbound.inc({ action: action.action, result: "retry" });
        d.log.warn({ id: action.id, code: err.code, deliveries, delayMs: delay, err: err.cause }, "outbound action failed; will retry");
        m.nak(delay);
        return;
      }
      const code = err.transient ? "MAX_DELIVER" : err.code === "BROKER_BLOCKED" ? "BLOCKED" : err.code === "BROKER_NOT_FOUND" ? "NOT_FOUND" : "SEND_FAILED";
      d.log.warn({ id: action.id, code, reason: err.message, deliveries }, "outbound action failed for good");
      const ok = await this.#deadLetter(m, code, err.message, action.plugin);
      if (ok) {
        d.store.transaction(() => {
          d.store.finishOutbound(action.id, { status: "failed", error: `${code}: ${err.message}` });
          if (conversation) d.store.setMessageStatus("out", action.id, "failed", { code, message: err.message });
        });
        d.counters.failed++;
        d.metrics.outbound.inc({ action: action.action, result: "failed" });
      }
    }
  }

  /** Dead-letters then terms `m`; when the dead letter cannot be published, naks instead (nothing lost). */
  async #deadLetter(m: JsMsg, code: string, message: string, plugin: string | undefined): Promise<boolean> {
    const d = this.#d;
    const dl = buildDeadLetter(
      {
        bot: d.bot,
        stream: OUTBOUND_STREAM,
        subject: m.subject,
        sequence: m.seq,
        consumer: d.consumer,
        messageId: m.headers?.get(HEADER_MSG_ID) || undefined,
        body: m.data,
        code,
        message,
        deliveries: m.info.deliveryCount,
        firstSeen: Math.floor(m.info.timestampNanos / 1e6),
        plugin,
      },
      Date.now(),
    );
    try {
      await publishDeadLetter(d.js, dl);
      d.counters.deadLettered++;
      d.metrics.deadLetters.inc({ origin: "published" });
      m.term(code);
      return true;
    } catch (err) {
      d.log.error({ err, seq: m.seq }, "could not publish a dead letter; nak so nothing is lost");
      m.nak(d.backoffMs[0] ?? 1000);
      return false;
    }
  }
}

/** The conversation an action belongs to (for ordering), read leniently before validation. */
function conversationKey(data: Uint8Array): string {
  try {
    const v = JSON.parse(new TextDecoder().decode(data)) as { conversation?: unknown };
    return typeof v.conversation === "string" ? v.conversation : "";
  } catch {
    return "";
  }
}
