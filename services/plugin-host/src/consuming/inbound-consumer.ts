/**
 * Consumes SB_INBOUND. Ordering: the broker publishes each event on `sb.in.<bot>.<partition>.<kind>`
 * where the partition is a hash of the conversation; every partition has one durable pull
 * consumer shared by all workers, with `max_ack_pending: 1`. So the events of one conversation
 * are handled one at a time, in stream order, by whichever worker pulled it, while different
 * partitions run in parallel (bounded per worker by `concurrency`).
 *
 * Outcome of one delivery: ack when every plugin succeeded; nak with backoff when one failed and
 * deliveries remain; on the last allowed delivery, a DeadLetter (reason + failing plugin) then
 * term. A body that is not a valid InboundEvent is dead-lettered at once (poison).
 */
import { AckPolicy, DeliverPolicy, type ConsumerMessages, type JetStreamClient, type JetStreamManager, type JsMsg } from "@nats-io/jetstream";
import { nanos } from "@nats-io/nats-core";
import {
  DEAD_LETTER_REASONS,
  INBOUND_STREAM,
  deadLetterPayload,
  decodeInboundEvent,
  inboundPartitionFilter,
  isProtocolError,
  pluginHostConsumer,
  type DeadLetter,
  type InboundEvent,
} from "@session-bot/protocol";
import type { Logger } from "pino";
import type { DeadLetterPublisher } from "../bus/dead-letters.js";
import type { ProcessOutcome } from "../processing/processor.js";
import { Semaphore } from "./semaphore.js";

export interface InboundConsumerOptions {
  readonly bot: string;
  readonly partitions: number;
  readonly concurrency: number;
  readonly maxDeliver: number;
  readonly ackWaitMs: number;
  /** Nak delay after the n-th failed delivery (the last value repeats). */
  readonly backoffMs: readonly number[];
}

/** What happened to one delivery (for metrics and tests). */
export type DeliveryOutcome = "ack" | "nak" | "dead_letter" | "poison" | "ignored" | "shutdown";

export interface InboundConsumerDeps {
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  /** Handles one delivery; `deliveries` counts this one; `final` when no retry is left. */
  handle(event: InboundEvent, signal: AbortSignal, delivery: { deliveries: number; final: boolean }): Promise<ProcessOutcome>;
  readonly publishDeadLetter: DeadLetterPublisher;
  readonly log: Logger;
  onDelivery?(outcome: DeliveryOutcome, partition: number): void;
}

/** The nak delay after `deliveries` failed deliveries. */
export function backoffFor(backoffMs: readonly number[], deliveries: number): number {
  if (backoffMs.length === 0) return 0;
  return backoffMs[Math.min(Math.max(deliveries, 1), backoffMs.length) - 1]!;
}

/** Creates (or updates to the configured limits) the durable consumer of every partition. */
export async function ensurePartitionConsumers(jsm: JetStreamManager, opts: InboundConsumerOptions): Promise<void> {
  for (let p = 0; p < opts.partitions; p++) await ensurePartitionConsumer(jsm, opts, p);
}

/** Creates (or updates) the durable consumer of partition `p`. */
export async function ensurePartitionConsumer(jsm: JetStreamManager, opts: InboundConsumerOptions, p: number): Promise<void> {
  const durable = pluginHostConsumer(opts.bot, p);
  const config = {
    durable_name: durable,
    filter_subject: inboundPartitionFilter(opts.bot, p),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    max_ack_pending: 1,
    max_deliver: opts.maxDeliver,
    ack_wait: nanos(opts.ackWaitMs),
    description: `session_bot plugin-host, bot ${opts.bot}, partition ${p}`,
  };
  try {
    await jsm.consumers.add(INBOUND_STREAM, config);
  } catch {
    // Exists with other settings (an older deployment): bring its limits up to date.
    await jsm.consumers.update(INBOUND_STREAM, durable, {
      max_ack_pending: 1,
      max_deliver: opts.maxDeliver,
      ack_wait: nanos(opts.ackWaitMs),
      description: config.description,
    });
  }
}

/** Busy time after which the next event waits for one event-loop turn (ms). */
const YIELD_AFTER_MS = 2;

/** One partition this worker pulls. */
interface Pull {
  readonly messages: ConsumerMessages;
  readonly loop: Promise<void>;
}

/**
 * Pulls the partitions it is given (all of them, or the ones partition ownership gives this worker)
 * and hands events to `handle`.
 */
export class InboundConsumer {
  private readonly sem: Semaphore;
  private readonly pulls = new Map<number, Pull>();
  /** Pulls being let go (ownership moved): their loops finish what they already hold. */
  private readonly releasing = new Set<Promise<void>>();
  private readonly inflight = new Set<Promise<void>>();
  private readonly controller = new AbortController();
  private stopping = false;
  /** Serialises start/setPartitions/stop (consumer lookups are asynchronous). */
  private change: Promise<void> = Promise.resolve();
  private retry: NodeJS.Timeout | undefined;
  /** When this worker last let the event loop turn (or started an event right after one). */
  private lastTurn = 0;

  constructor(
    private readonly opts: InboundConsumerOptions,
    private readonly deps: InboundConsumerDeps,
  ) {
    this.sem = new Semaphore(opts.concurrency);
  }

  /** Events being handled now. */
  get inFlight(): number {
    return this.inflight.size;
  }

  /** The partitions being pulled now, in increasing order. */
  get partitions(): number[] {
    return [...this.pulls.keys()].sort((a, b) => a - b);
  }

  /** Starts pulling `partitions` (default: every partition). */
  async start(partitions: readonly number[] = Array.from({ length: this.opts.partitions }, (_, p) => p)): Promise<void> {
    await this.setPartitions(partitions);
  }

  /**
   * Pulls exactly `partitions` from now on: starts the new ones, and lets go of the others — their
   * pull requests are withdrawn and an event already in hand is finished and acked (a partition
   * holds one unacked event at most, so the next owner simply gets the one after it).
   */
  setPartitions(partitions: readonly number[]): Promise<void> {
    const next = this.change.then(() => this.apply(new Set(partitions)));
    this.change = next.catch(() => undefined);
    return next;
  }

  private async apply(wanted: ReadonlySet<number>): Promise<void> {
    if (this.stopping) return;
    clearTimeout(this.retry);
    for (const [p, pull] of this.pulls) {
      if (wanted.has(p)) continue;
      this.pulls.delete(p);
      const done: Promise<void> = pull.messages
        .close()
        .then(() => pull.loop)
        .catch(() => undefined)
        .finally(() => this.releasing.delete(done));
      this.releasing.add(done);
    }
    let failure: unknown;
    for (const p of [...wanted].sort((a, b) => a - b)) {
      if (this.pulls.has(p) || this.stopping) continue;
      try {
        const consumer = await this.deps.js.consumers.get(INBOUND_STREAM, pluginHostConsumer(this.opts.bot, p));
        // One event per pull (the consumer allows one unacked event anyway): the worker sends a
        // fresh pull after every event, so a live pull is never older than the worker's last event.
        // (Pulls of 16 were measured too: no difference in throughput.)
        const messages = await consumer.consume({ max_messages: 1, expires: 5_000 });
        this.pulls.set(p, { messages, loop: this.loop(p, messages) });
        void this.watchStatus(p, messages);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) {
      // e.g. NATS reconnecting: try the missing partitions again shortly.
      this.deps.log.warn({ err: failure }, "could not start pulling some partitions; retrying in 1 s");
      this.retry = setTimeout(() => void this.setPartitions([...wanted]).catch(() => undefined), 1_000);
      throw failure instanceof Error ? failure : new Error("could not start pulling some partitions", { cause: failure });
    }
  }

  /**
   * Recreates the partition's consumer when it disappears (the stream was recreated, or an
   * operator deleted it): the pull loop keeps asking and resumes once it exists again. The new
   * consumer starts at the first message still in the stream; events handled before are handled
   * again, their replies deduplicated by their action ids.
   */
  private async watchStatus(partition: number, messages: ConsumerMessages): Promise<void> {
    try {
      for await (const s of messages.status()) {
        if (this.stopping) return;
        if (s.type === "consumer_deleted" || s.type === "consumer_not_found") {
          this.deps.log.warn({ partition, status: s.type }, "partition consumer missing: recreating it");
          await ensurePartitionConsumer(this.deps.jsm, this.opts, partition).catch((err: unknown) =>
            this.deps.log.error({ err, partition }, "could not recreate the partition consumer; will retry"),
          );
        }
      }
    } catch {
      // the iterator closed
    }
  }

  private async loop(partition: number, messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        if (this.stopping) {
          m.nak();
          this.deps.onDelivery?.("shutdown", partition);
          continue;
        }
        await this.sem.acquire();
        const p = this.deliver(partition, m)
          // An unexpected failure (e.g. the connection closing under an ack) must not end this
          // partition's loop: the message is redelivered after ack_wait.
          .catch((err: unknown) => this.deps.log.error({ err, partition, seq: m.info.streamSequence }, "delivery failed"))
          .finally(() => {
            this.sem.release();
            this.inflight.delete(p);
          });
        this.inflight.add(p);
        // One at a time per partition: the consumer allows a single unacked message anyway.
        await p;
      }
    } catch (err) {
      if (!this.stopping) this.deps.log.error({ err, partition }, "inbound consumer loop ended");
    }
  }

  private async deliver(partition: number, m: JsMsg): Promise<void> {
    // Let the event loop read the socket when this worker has been busy for a while: the acks,
    // publish acks and deliveries that came in meanwhile are handled before the next event.
    // Without this, a worker whose plugins burn CPU runs every event it holds back to back in one
    // turn and only then acks them all, so all its partitions wait for the same round trip at the
    // same moment and the worker idles (measured: two CPU-bound workers used 1.46 cores of 2).
    // Cheap events (under YIELD_AFTER_MS together) still run in one turn.
    if (performance.now() - this.lastTurn > YIELD_AFTER_MS) await new Promise<void>((resolve) => setImmediate(resolve));
    this.lastTurn = performance.now();
    const deliveries = m.info.deliveryCount;
    let event: InboundEvent;
    try {
      event = decodeInboundEvent(m.data);
    } catch (err) {
      const code = isProtocolError(err) ? err.code : DEAD_LETTER_REASONS.INVALID;
      if (code === "PROTOCOL_UNKNOWN_KIND") {
        // A kind from a newer broker (PROTOCOL.md §2.5): this worker has nothing to run on it,
        // and a newer worker in the fleet may. Ack and count; it is not a poison message.
        this.deps.log.info({ subject: m.subject, seq: m.info.streamSequence }, "inbound event of an unknown kind: ignored");
        this.ack(m, partition);
        this.deps.onDelivery?.("ignored", partition);
        return;
      }
      const message = err instanceof Error ? err.message : String(err);
      this.deps.log.warn({ subject: m.subject, seq: m.info.streamSequence, code }, "invalid inbound event: dead-lettered");
      await this.deadLetter(m, { code, message }, undefined, "poison", partition);
      return;
    }
    let outcome: ProcessOutcome;
    try {
      outcome = await this.deps.handle(event, this.controller.signal, { deliveries, final: deliveries >= this.opts.maxDeliver });
    } catch (err) {
      outcome = { failures: [{ plugin: "host", code: "UNKNOWN", message: err instanceof Error ? err.message : String(err) }], handledBy: [], succeeded: [] };
      this.deps.log.error({ err, eventId: event.id }, "event processing failed");
    }
    if (outcome.failures.length === 0) {
      this.ack(m, partition);
      this.deps.onDelivery?.("ack", partition);
      return;
    }
    if (this.controller.signal.aborted) {
      // Shutting down: hand the event to another worker right away.
      m.nak();
      this.deps.onDelivery?.("shutdown", partition);
      return;
    }
    if (deliveries >= this.opts.maxDeliver) {
      const first = outcome.failures[0]!;
      const reason = {
        code: DEAD_LETTER_REASONS.MAX_DELIVER,
        message: `failed ${deliveries} deliveries; last: ${outcome.failures.map((f) => `${f.plugin}: ${f.code}: ${f.message}`).join(" | ")}`.slice(0, 1_000),
      };
      await this.deadLetter(m, reason, first.plugin === "host" || first.plugin === "router" ? undefined : first.plugin, "dead_letter", partition, event.id);
      return;
    }
    const delay = backoffFor(this.opts.backoffMs, deliveries);
    m.nak(delay);
    this.deps.log.info({ eventId: event.id, deliveries, delayMs: delay, failed: outcome.failures.map((f) => f.plugin) }, "event failed: retry later");
    this.deps.onDelivery?.("nak", partition);
  }

  private async deadLetter(
    m: JsMsg,
    reason: { code: string; message: string },
    plugin: string | undefined,
    outcome: "poison" | "dead_letter",
    partition: number,
    messageId?: string,
  ): Promise<void> {
    const dl: DeadLetter = {
      v: 1,
      id: `${INBOUND_STREAM}:${m.info.streamSequence}`,
      bot: this.opts.bot,
      source: {
        stream: INBOUND_STREAM,
        subject: m.subject,
        sequence: m.info.streamSequence,
        consumer: m.info.consumer,
        ...(messageId !== undefined ? { messageId } : {}),
      },
      payload: deadLetterPayload(m.data),
      reason: { code: /^[A-Z][A-Z0-9_]{0,63}$/.test(reason.code) ? reason.code : "PLUGIN_FAILED", message: reason.message.slice(0, 1_000) },
      deliveries: m.info.deliveryCount,
      firstSeen: Math.floor(m.info.timestampNanos / 1_000_000),
      failedAt: Date.now(),
      ...(plugin !== undefined ? { plugin } : {}),
    };
    try {
      await this.deps.publishDeadLetter(dl);
    } catch (err) {
      // Could not record it: keep the event (retried later) rather than lose it.
      this.deps.log.error({ err, seq: m.info.streamSequence }, "dead letter publish failed; event kept");
      m.nak(backoffFor(this.opts.backoffMs, m.info.deliveryCount));
      return;
    }
    m.term(reason.code);
    this.deps.onDelivery?.(outcome, partition);
  }

  /**
   * A plain ack, not a confirmed one: the server hands the partition's next event out as soon as it
   * reads the ack, without a reply to wait for. An ack lost on the way means the event comes back
   * after `ack_wait`; its replies carry the same action ids and the broker drops the duplicates.
   */
  private ack(m: JsMsg, partition: number): void {
    try {
      m.ack();
    } catch (err) {
      this.deps.log.warn({ err, partition, seq: m.info.streamSequence }, "ack failed; the event will be redelivered");
    }
  }

  /**
   * Stops pulling, lets in-flight events finish for up to `graceMs`, then aborts their handlers
   * (their events are nak'ed for another worker).
   */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.retry);
    await this.change;
    // close() resolves only once the iterator is consumed, i.e. after the in-flight handler of
    // each partition returns: start closing now, but let the grace period decide the wait.
    const pulls = [...this.pulls.values()];
    const closing = Promise.allSettled(pulls.map((p) => p.messages.close()));
    const all = Promise.allSettled([...this.inflight]);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((r) => (timer = setTimeout(r, graceMs)))]);
    clearTimeout(timer);
    this.controller.abort(new Error("plugin-host stopping"));
    await all;
    await closing;
    await Promise.allSettled([...pulls.map((p) => p.loop), ...this.releasing]);
  }
}
