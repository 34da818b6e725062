// The inbound path: poll → dedup → (decrypted, classified by the Session client) → rate limit and
// blocklist → record the batch in SQLite → publish to SB_INBOUND with Nats-Msg-Id = event id, one
// chain per conversation, the chains pipelined → mark the acked messages published and deduplicated
// → only when every message of the batch is on the stream, commit the poll cursor. A crash anywhere
// replays the batch; the dedup table and JetStream's duplicate window turn the replay into no-ops.
import { writeSync } from "node:fs";
import { headers as natsHeaders } from "@nats-io/transport-node";
import type { JetStreamPublisher } from "@session-bot/js-publisher";
import {
  CONTENT_TYPE_JSON,
  HEADER_CONTENT_TYPE,
  HEADER_PROTOCOL_VERSION,
  INBOUND_STREAM,
  PROTOCOL_VERSION,
  encodeInboundEvent,
  inboundSubjectOf,
  isProtocolError,
  type InboundEvent,
} from "@session-bot/protocol";
import type { PolledItem, SessionClient, SessionEvent } from "@session-bot/session";
import type { Logger } from "pino";
import type { FaultHook } from "../config.js";
import type { Counters } from "../counters.js";
import type { BrokerStore } from "../db/store.js";
import type { BrokerMetrics } from "../metrics.js";
import { logText, mapSessionEvent, type InboundAttachment } from "./map-event.js";
import type { RateLimiter } from "./rate-limiter.js";

/** Text of the one notice a sender gets when the rate limit first refuses them. */
export const RATE_LIMIT_NOTICE = "You are sending messages faster than I can handle. Please wait a minute; messages sent meanwhile are ignored.";

export interface PollerDeps {
  readonly bot: string;
  readonly partitions: number;
  readonly pollIntervalMs: number;
  /** Delay after a poll that found messages (more may be waiting); at most `pollIntervalMs`. */
  readonly busyPollIntervalMs: number;
  readonly autoAcceptRequests: boolean;
  readonly fault: FaultHook;
  readonly client: SessionClient;
  /** Publishes-with-ack to SB_INBOUND (a third of nats.js's client CPU per publish). */
  readonly publisher: JetStreamPublisher;
  readonly store: BrokerStore;
  readonly limiter: RateLimiter;
  readonly metrics: BrokerMetrics;
  readonly counters: Counters;
  readonly log: Logger;
  readonly now?: () => number;
}

/** Polls the bot's swarm until stopped. */
export class Poller {
  readonly #d: PollerDeps;
  readonly #now: () => number;
  #loop: Promise<void> | undefined;
  #abort = new AbortController();
  #lastSuccess = 0;
  #failures = 0;
  /** Items the last round's batch held: a non-empty batch is followed by another poll at once. */
  #lastBatchItems = 0;

  constructor(deps: PollerDeps) {
    this.#d = deps;
    this.#now = deps.now ?? Date.now;
  }

  /** True once a poll round succeeded and the latest round did not fail. */
  get healthy(): boolean {
    return this.#lastSuccess > 0 && this.#failures === 0;
  }

  start(): void {
    if (this.#loop) return;
    this.#abort = new AbortController();
    this.#loop = this.#run(this.#abort.signal);
  }

  /** Stops polling: aborts the wait or request in progress; resolves when the round has ended. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    this.#loop = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.pollRound(signal);
        this.#failures = 0;
        this.#lastSuccess = this.#now();
      } catch (err) {
        if (signal.aborted) break;
        this.#failures++;
        this.#d.metrics.pollFailures.inc();
        this.#d.log.warn({ err, failures: this.#failures }, "poll round failed; retrying");
      }
      // Busy (the last batch had messages): poll again soon, more may be waiting. Idle: wait the
      // interval. Failing: back off.
      const idleDelay = this.#lastBatchItems > 0 ? this.#d.busyPollIntervalMs : this.#d.pollIntervalMs;
      const delay = this.#failures === 0 ? idleDelay : Math.min(30_000, this.#d.pollIntervalMs * 2 ** Math.min(this.#failures, 5));
      await sleep(delay, signal);
    }
  }

  /**
   * One round: poll, then handle the batch in four steps —
   *
   * 1. classify every item in swarm order (dedup, blocklist, rate limit, map and validate) and
   *    record them all in ONE transaction (drops with their dedup mark; events as `received`);
   * 2. publish the events pipelined: one chain per conversation, the chains concurrently. Within a
   *    chain each publish waits for the previous one's ack, and a failed publish ends its chain,
   *    so no later event of that conversation reaches the stream before it (per-conversation order
   *    holds even when one publish fails and the batch is polled again);
   * 3. mark every message whose events were all acked as published and deduplicated, in ONE
   *    transaction (also when another chain failed: those are on the stream already);
   * 4. if any publish failed, throw without committing the cursor (the batch is polled again: the
   *    dedup table skips what step 3 marked, the rest is published in order); otherwise run the
   *    side effects (rate-limit notices, message-request accepts) and commit the cursor.
   *
   * Returns the number of events published.
   */
  async pollRound(signal?: AbortSignal): Promise<number> {
    const d = this.#d;
    const end = d.metrics.pollLatency.startTimer();
    const batch = await d.client.pollOnce(signal ? { signal } : {});
    end();
    this.#lastBatchItems = batch.items.length;

    // 1. Classify and record.
    const planned: Planned[] = [];
    const drops: { e: SessionEvent; reason: string }[] = [];
    const notices = new Set<string>();
    const seen = new Set<string>();
    for (const item of batch.items) {
      if (seen.has(item.hash) || d.store.dedupOutcome(item.hash) !== undefined) continue;
      seen.add(item.hash);
      const outcome = this.#classify(item, notices);
      if (outcome.kind === "publish") planned.push(outcome.plan);
      else if (outcome.kind === "drop") drops.push({ e: outcome.e, reason: outcome.reason });
    }
    if (seen.size > 0) {
      d.store.transaction(() => {
        for (const item of batch.items) {
          if (!seen.has(item.hash)) continue;
          if (item.status !== "event") d.store.markDedup(item.hash, "dropped");
        }
        for (const { e, reason } of drops) this.#recordDrop(e, reason);
        for (const p of planned) this.#recordReceived(p);
      });
    }

    // 2. Publish: one chain per conversation, chains concurrently.
    const chains = new Map<string, Planned[]>();
    for (const p of planned) {
      const chain = chains.get(p.e.sender);
      if (chain) chain.push(p);
      else chains.set(p.e.sender, [p]);
    }
    const failures: unknown[] = [];
    await Promise.all([...chains.values()].map((chain) => this.#publishChain(chain, failures)));

    // 3. Mark what is on the stream.
    const done = planned.filter((p) => p.published);
    if (done.length > 0) {
      d.store.transaction(() => {
        for (const p of done) {
          for (const { event } of p.encoded) d.store.setMessageStatus("in", event.id, "published");
          d.store.markDedup(p.e.hash, "published");
        }
      });
      let events = 0;
      for (const p of done) {
        for (const { event } of p.encoded) d.metrics.inbound.inc({ kind: event.kind });
        events += p.encoded.length;
      }
      d.counters.published += events;
    }

    // 4. Side effects, then the cursor (only when everything before it is on the stream).
    await forEachLimit([...notices], SIDE_EFFECT_CONCURRENCY, (to) => this.#notice(to));
    if (d.autoAcceptRequests) {
      const peers = new Set(done.filter((p) => p.e.kind === "message").map((p) => p.e.sender));
      await forEachLimit([...peers], SIDE_EFFECT_CONCURRENCY, (peer) => this.#autoAccept(peer));
    }
    if (failures.length > 0) {
      const failed = planned.length - done.length;
      d.log.warn({ published: done.length, failed, errors: failures.length }, "some inbound publishes failed; the batch will be polled again");
      throw failures[0];
    }
    await d.client.commit(batch);
    return done.reduce((n, p) => n + p.encoded.length, 0);
  }

  /** Publishes one conversation's messages in order; stops at the first failure. */
  async #publishChain(chain: readonly Planned[], failures: unknown[]): Promise<void> {
    const d = this.#d;
    for (const p of chain) {
      try {
        for (const { event, bytes } of p.encoded) {
          const h = natsHeaders();
          h.set(HEADER_PROTOCOL_VERSION, String(PROTOCOL_VERSION));
          h.set(HEADER_CONTENT_TYPE, CONTENT_TYPE_JSON);
          const end = d.metrics.publishLatency.startTimer();
          await d.publisher.publish(inboundSubjectOf(event, d.partitions), bytes, { msgID: event.id, expectStream: INBOUND_STREAM, headers: h });
          end();
          if (d.fault === "crash-after-publish") {
            // Test-only: die between the publish ack and the dedup marks and cursor commit
            // (config BROKER_FAULT). Written synchronously: pino's buffered output would die with
            // the process.
            writeSync(2, JSON.stringify({ level: 60, hash: p.e.hash, msg: "fault hook crash-after-publish: killing the process" }) + "\n");
            process.kill(process.pid, "SIGKILL");
          }
        }
        p.published = true;
      } catch (err) {
        failures.push(err);
        d.log.warn({ err, hash: p.e.hash, conversation: p.e.sender }, "inbound publish failed; the conversation's later messages wait for the next poll");
        return;
      }
    }
  }

  /** Decides what happens to one polled item (no I/O except reads). */
  #classify(item: PolledItem, notices: Set<string>): Classification {
    const d = this.#d;
    if (item.status === "error") {
      d.metrics.decryptFailures.inc({ code: item.error.code });
      d.counters.dropped++;
      d.log.warn({ hash: item.hash, code: item.error.code }, "undecryptable or malformed message dropped");
      return { kind: "done" };
    }
    if (item.status === "ignored") {
      d.metrics.inboundDropped.inc({ reason: "ignored" });
      return { kind: "done" };
    }
    const e = item.event;
    d.counters.received++;
    if (d.store.isBlocked(e.sender)) return this.#drop(e, "blocked");
    // Only visible messages count against the rate limit: typing and receipts are chatter.
    if (e.kind === "message" || e.kind === "reaction") {
      const decision = d.limiter.take(e.sender);
      if (decision !== "allowed") {
        d.metrics.rateLimited.inc();
        if (decision === "limited-first") notices.add(e.sender);
        return this.#drop(e, "rate_limited");
      }
    }
    const mapped = mapSessionEvent(d.bot, e, this.#now());
    if (mapped.status === "unsupported") return this.#drop(e, "unsupported");
    if (mapped.droppedAttachments > 0) d.log.warn({ hash: e.hash, dropped: mapped.droppedAttachments }, "attachments over the per-message limit dropped");

    // Validate every event first: a malformed one (e.g. an over-long emoji) is dropped, never published.
    const encoded: { event: InboundEvent; bytes: Uint8Array }[] = [];
    for (const event of mapped.events) {
      try {
        encoded.push({ event, bytes: encodeInboundEvent(event) });
      } catch (err) {
        if (!isProtocolError(err)) throw err;
        d.metrics.decryptFailures.inc({ code: err.code });
        d.log.warn({ hash: e.hash, code: err.code }, "message does not fit the protocol; dropped");
        return this.#drop(e, "invalid");
      }
    }
    return { kind: "publish", plan: { e, attachments: mapped.attachments, encoded, published: false } };
  }

  /** Records a message about to be published: attachments, conversation, message log (`received`). */
  #recordReceived(p: Planned): void {
    const d = this.#d;
    const e = p.e;
    for (const a of p.attachments) {
      d.store.putAttachment({
        id: a.id,
        direction: "in",
        pointer: JSON.stringify(a.info),
        size: a.descriptor.size,
        contentType: a.descriptor.contentType,
        fileName: a.descriptor.fileName ?? null,
      });
    }
    const first = p.encoded[0]?.event;
    const displayName = first && "senderName" in first ? first.senderName : undefined;
    d.store.touchConversation(e.sender, e.timestamp, "in", {
      approvedMe: true,
      countsAsMessage: e.kind === "message",
      ...(displayName !== undefined ? { displayName } : {}),
    });
    for (const { event } of p.encoded) {
      d.store.recordMessage({ conversationId: e.sender, direction: "in", ref: event.id, kind: event.kind, body: logText(event), status: "received", sentAt: e.timestamp });
    }
  }

  #drop(e: SessionEvent, reason: string): Classification {
    const d = this.#d;
    d.counters.dropped++;
    d.metrics.inboundDropped.inc({ reason });
    return { kind: "drop", e, reason };
  }

  /** Records a dropped message (in the batch's first transaction) and its dedup mark. */
  #recordDrop(e: SessionEvent, reason: string): void {
    const d = this.#d;
    if (reason !== "blocked") {
      d.store.touchConversation(e.sender, e.timestamp, "in", { countsAsMessage: e.kind === "message" });
      d.store.recordMessage({ conversationId: e.sender, direction: "in", ref: e.hash, kind: e.kind, body: null, status: "dropped", sentAt: e.timestamp });
      d.store.setMessageStatus("in", e.hash, "dropped", { code: reason.toUpperCase(), message: `dropped: ${reason.replace("_", " ")}` });
    }
    d.store.markDedup(e.hash, "dropped");
  }

  async #notice(to: string): Promise<void> {
    try {
      await this.#d.client.sendText(to, RATE_LIMIT_NOTICE);
    } catch (err) {
      this.#d.log.warn({ err, to }, "could not send the rate-limit notice");
    }
  }

  async #autoAccept(peer: string): Promise<void> {
    const d = this.#d;
    if (d.store.isApproved(peer)) return;
    try {
      await d.client.acceptMessageRequest(peer);
      d.store.setApproval(peer, { approved: true });
      d.log.info({ conversation: peer }, "message request accepted");
    } catch (err) {
      // Not fatal: the next message from this peer tries again.
      d.log.warn({ err, conversation: peer }, "could not accept the message request");
    }
  }
}

/** Rate-limit notices and request accepts in flight at once (each is a Session send). */
const SIDE_EFFECT_CONCURRENCY = 4;

/** A message of the batch that maps to events to publish. */
interface Planned {
  readonly e: SessionEvent;
  readonly attachments: readonly InboundAttachment[];
  readonly encoded: readonly { event: InboundEvent; bytes: Uint8Array }[];
  /** Every event acked by the stream. */
  published: boolean;
}

type Classification = { kind: "done" } | { kind: "drop"; e: SessionEvent; reason: string } | { kind: "publish"; plan: Planned };

/** Runs `fn` over `items`, at most `limit` at a time; `fn` must not throw. */
async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
