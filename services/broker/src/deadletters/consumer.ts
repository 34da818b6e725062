// Records every DeadLetter of this bot (from SB_DEAD: the broker's own and plugin-host's) in SQLite,
// and republishes one on request.
import type { ConsumerMessages, JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
import {
  DEAD_LETTER_STREAM,
  HEADER_PROTOCOL_VERSION,
  OUTBOUND_STREAM,
  PROTOCOL_VERSION,
  decodeDeadLetter,
  parseDeadLetter,
  retryMessageId,
  type DeadLetter,
} from "@session-bot/protocol";
import type { Logger } from "pino";
import type { Counters } from "../counters.js";
import type { BrokerStore, DeadLetterRow } from "../db/store.js";
import { BrokerError } from "../errors.js";
import type { BrokerMetrics } from "../metrics.js";

export interface DeadLetterDeps {
  readonly consumer: string;
  readonly js: JetStreamClient;
  readonly store: BrokerStore;
  readonly metrics: BrokerMetrics;
  readonly counters: Counters;
  readonly log: Logger;
}

/** Original body bytes of a dead letter, or undefined when only a truncated copy was kept. */
export function originalBody(dl: DeadLetter): Uint8Array | undefined {
  if (dl.payload.encoding === "json") return new TextEncoder().encode(JSON.stringify(dl.payload.json));
  if (dl.payload.truncated) return undefined;
  return new Uint8Array(Buffer.from(dl.payload.data, "base64"));
}

/** Consumes SB_DEAD into the database. */
export class DeadLetterRecorder {
  readonly #d: DeadLetterDeps;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;

  constructor(deps: DeadLetterDeps) {
    this.#d = deps;
  }

  async start(): Promise<void> {
    const consumer = await this.#d.js.consumers.get(DEAD_LETTER_STREAM, this.#d.consumer);
    this.#messages = await consumer.consume({ max_messages: 64 });
    this.#loop = this.#run(this.#messages);
  }

  async stop(): Promise<void> {
    await this.#messages?.close();
    await this.#loop;
  }

  async #run(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      const d = this.#d;
      try {
        const dl = decodeDeadLetter(m.data);
        const isNew = d.store.insertDeadLetter({
          id: dl.id,
          subject: dl.source.subject,
          payload: Buffer.from(originalBody(dl) ?? new Uint8Array()),
          originalId: dl.source.messageId ?? dl.id,
          reason: dl.reason.code,
          source: dl.source.stream,
          document: new TextDecoder().decode(m.data),
          createdAt: dl.failedAt,
        });
        if (isNew) d.metrics.deadLetters.inc({ origin: "recorded" });
        m.ack();
      } catch (err) {
        // A malformed dead letter cannot be retried anyway: keep nothing, say so, move on.
        d.log.warn({ err, seq: m.seq }, "malformed dead letter on SB_DEAD ignored");
        m.term("malformed dead letter");
      }
    }
  }
}

/**
 * Republishes a recorded dead letter to its original subject with `Nats-Msg-Id` `<id>:retry:<n>`.
 * An outbound action's failed idempotency record is released first, so the broker performs it again.
 * Throws `BROKER_NOT_FOUND` or `BROKER_ACTION_REJECTED` (truncated payload).
 */
export async function retryDeadLetter(js: JetStreamClient, store: BrokerStore, id: string): Promise<string> {
  const row: DeadLetterRow | undefined = store.getDeadLetter(id);
  if (!row) throw new BrokerError("BROKER_NOT_FOUND", `no dead letter ${id}`);
  const dl = parseDeadLetter(JSON.parse(row.document));
  const body = originalBody(dl);
  if (!body) throw new BrokerError("BROKER_ACTION_REJECTED", "the dead letter kept only a truncated payload; it cannot be retried");
  const n = store.markDeadLetterRetried(id);
  const msgId = retryMessageId(row.originalId, n);
  if (dl.source.stream === OUTBOUND_STREAM && dl.payload.encoding === "json") {
    const actionId = (dl.payload.json as { id?: unknown }).id;
    if (typeof actionId === "string") store.releaseOutbound(actionId);
  }
  const h = natsHeaders();
  h.set(HEADER_PROTOCOL_VERSION, String(PROTOCOL_VERSION));
  await js.publish(row.subject, body, { msgID: msgId, headers: h });
  return msgId;
}
