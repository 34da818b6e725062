// The inbound path: poll → dedup → (decrypted, classified by the Session client) → rate limit and
// blocklist → record in SQLite → publish to SB_INBOUND with Nats-Msg-Id = event id → only then
// commit the poll cursor. A crash anywhere replays the batch; the dedup table and JetStream's
// duplicate window turn the replay into no-ops.
import { writeSync } from "node:fs";
import type { JetStreamClient } from "@nats-io/jetstream";
import { headers as natsHeaders } from "@nats-io/transport-node";
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
import { logText, mapSessionEvent } from "./map-event.js";
import type { RateLimiter } from "./rate-limiter.js";

/** Text of the one notice a sender gets when the rate limit first refuses them. */
export const RATE_LIMIT_NOTICE = "You are sending messages faster than I can handle. Please wait a minute; messages sent meanwhile are ignored.";

export interface PollerDeps {
  readonly bot: string;
  readonly partitions: number;
  readonly pollIntervalMs: number;
  readonly autoAcceptRequests: boolean;
  readonly fault: FaultHook;
  readonly client: SessionClient;
  readonly js: JetStreamClient;
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
      const delay = this.#failures === 0 ? this.#d.pollIntervalMs : Math.min(30_000, this.#d.pollIntervalMs * 2 ** Math.min(this.#failures, 5));
      await sleep(delay, signal);
    }
  }

  /**
   * One round: poll, handle every item, then commit the cursor. Throws (without committing) when
   * publishing fails, so the batch is polled again.
   */
  async pollRound(signal?: AbortSignal): Promise<number> {
    const d = this.#d;
    const end = d.metrics.pollLatency.startTimer();
    const batch = await d.client.pollOnce(signal ? { signal } : {});
    end();
    let published = 0;
    for (const item of batch.items) {
      if (d.store.dedupOutcome(item.hash) !== undefined) continue;
      published += await this.#handle(item);
    }
    await d.client.commit(batch);
    return published;
  }

  async #handle(item: PolledItem): Promise<number> {
    const d = this.#d;
    if (item.status === "error") {
      d.metrics.decryptFailures.inc({ code: item.error.code });
      d.counters.dropped++;
      d.log.warn({ hash: item.hash, code: item.error.code }, "undecryptable or malformed message dropped");
      d.store.markDedup(item.hash, "dropped");
      return 0;
    }
    if (item.status === "ignored") {
      d.metrics.inboundDropped.inc({ reason: "ignored" });
      d.store.markDedup(item.hash, "dropped");
      return 0;
    }
    return this.#handleEvent(item.event);
  }

  async #handleEvent(e: SessionEvent): Promise<number> {
    const d = this.#d;
    d.counters.received++;
    const now = this.#now();
    if (d.store.isBlocked(e.sender)) {
      return this.#drop(e, "blocked");
    }
    // Only visible messages count against the rate limit: typing and receipts are chatter.
    if (e.kind === "message" || e.kind === "reaction") {
      const decision = d.limiter.take(e.sender);
      if (decision !== "allowed") {
        d.metrics.rateLimited.inc();
        if (decision === "limited-first") await this.#notice(e.sender);
        return this.#drop(e, "rate_limited");
      }
    }
    const mapped = mapSessionEvent(d.bot, e, now);
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

    const first = mapped.events[0];
    d.store.transaction(() => {
      for (const a of mapped.attachments) {
        d.store.putAttachment({
          id: a.id,
          direction: "in",
          pointer: JSON.stringify(a.info),
          size: a.descriptor.size,
          contentType: a.descriptor.contentType,
          fileName: a.descriptor.fileName ?? null,
        });
      }
      const displayName = first && "senderName" in first ? first.senderName : undefined;
      d.store.touchConversation(e.sender, e.timestamp, "in", {
        approvedMe: true,
        countsAsMessage: e.kind === "message",
        ...(displayName !== undefined ? { displayName } : {}),
      });
      for (const { event } of encoded) {
        d.store.recordMessage({ conversationId: e.sender, direction: "in", ref: event.id, kind: event.kind, body: logText(event), status: "received", sentAt: e.timestamp });
      }
    });

    for (const { event, bytes } of encoded) {
      const h = natsHeaders();
      h.set(HEADER_PROTOCOL_VERSION, String(PROTOCOL_VERSION));
      h.set(HEADER_CONTENT_TYPE, CONTENT_TYPE_JSON);
      const end = d.metrics.publishLatency.startTimer();
      await d.js.publish(inboundSubjectOf(event, d.partitions), bytes, { msgID: event.id, expect: { streamName: INBOUND_STREAM }, headers: h });
      end();
      if (d.fault === "crash-after-publish") {
        // Test-only: die between the publish ack and the cursor commit (config BROKER_FAULT).
        // Written synchronously: pino's buffered output would die with the process.
        writeSync(2, JSON.stringify({ level: 60, hash: e.hash, msg: "fault hook crash-after-publish: killing the process" }) + "\n");
        process.kill(process.pid, "SIGKILL");
      }
    }
    d.store.transaction(() => {
      for (const { event } of encoded) {
        d.store.setMessageStatus("in", event.id, "published");
        d.metrics.inbound.inc({ kind: event.kind });
      }
      d.store.markDedup(e.hash, "published");
    });
    d.counters.published += encoded.length;

    if (e.kind === "message" && d.autoAcceptRequests) await this.#autoAccept(e.sender);
    return encoded.length;
  }

  #drop(e: SessionEvent, reason: string): number {
    const d = this.#d;
    d.counters.dropped++;
    d.metrics.inboundDropped.inc({ reason });
    d.store.transaction(() => {
      if (reason !== "blocked") {
        d.store.touchConversation(e.sender, e.timestamp, "in", { countsAsMessage: e.kind === "message" });
        d.store.recordMessage({ conversationId: e.sender, direction: "in", ref: e.hash, kind: e.kind, body: null, status: "dropped", sentAt: e.timestamp });
        d.store.setMessageStatus("in", e.hash, "dropped", { code: reason.toUpperCase(), message: `dropped: ${reason.replace("_", " ")}` });
      }
      d.store.markDedup(e.hash, "dropped");
    });
    return 0;
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
    if (d.store.getConversation(peer)?.approved) return;
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
