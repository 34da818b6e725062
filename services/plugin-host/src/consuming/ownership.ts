/**
 * Partition ownership (PROTOCOL.md §6.2.1): the workers of one consumer set announce themselves
 * with `WorkerPresence` heartbeats on `sb.plugin-host.<bot>.presence.<set>`, and each pulls only
 * the partitions `ownedPartitions` gives it among the members it heard from recently.
 *
 * Ownership never carries the ordering guarantee (each partition consumer keeps
 * `max_ack_pending: 1`); it only stops the workers from all waiting on every partition, where the
 * server hands each partition's next event to whichever pull waited longest and the workers end up
 * taking turns instead of working side by side.
 */
import type { NatsConnection, Subscription } from "@nats-io/nats-core";
import {
  PRESENCE_EXPIRY_INTERVALS,
  decodeWorkerPresence,
  encodeWorkerPresence,
  isProtocolError,
  ownedPartitions,
  workerPresenceSubject,
  type WorkerPresence,
} from "@session-bot/protocol";
import type { Logger } from "pino";

export interface OwnershipOptions {
  readonly bot: string;
  /** The consumer set: `host` for plugin-host's `sb_host_*` consumers. */
  readonly set: string;
  /** This worker's instance name (unique in the set). */
  readonly instance: string;
  readonly partitions: number;
  /** Heartbeat period (ms). */
  readonly intervalMs: number;
}

/** The members of a consumer set as one worker sees them, and the partitions that worker owns. */
export class PartitionOwnership {
  /** Other members → when they expire (ms since the epoch). */
  readonly #members = new Map<string, number>();
  readonly #startedAt: number;
  #owned: readonly number[];
  #sub: Subscription | undefined;
  #timer: NodeJS.Timeout | undefined;
  #announceSoon: NodeJS.Immediate | undefined;
  #stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly opts: OwnershipOptions,
    /** Called with the new partition list whenever it changes (never for the initial one). */
    private readonly onChange: (owned: readonly number[]) => void,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.#startedAt = now();
    this.#owned = ownedPartitions(opts.instance, [], opts.partitions);
  }

  /** The partitions this worker pulls now, in increasing order. */
  get owned(): readonly number[] {
    return this.#owned;
  }

  /** The members this worker counts now (itself included), sorted. */
  get members(): string[] {
    return [...new Set([...this.#members.keys(), this.opts.instance])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Subscribes to the set's presence subject and starts announcing this worker. */
  start(): void {
    const subject = workerPresenceSubject(this.opts.bot, this.opts.set);
    this.#sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) {
          // A denied subscription (permissions): the worker keeps pulling what it computes alone.
          if (!this.#stopped) this.log.warn({ err, subject }, "presence subscription failed: this worker pulls every partition it computes alone");
          return;
        }
        this.#receive(msg.data);
      },
    });
    this.#announce("up");
    this.#timer = setInterval(() => {
      this.#announce("up");
      this.#recompute();
    }, this.opts.intervalMs);
    this.#timer.unref();
  }

  /** Says `leaving` (so the others take this worker's partitions at once) and stops. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    if (this.#announceSoon) clearImmediate(this.#announceSoon);
    this.#announce("leaving");
    try {
      await this.nc.flush();
    } catch {
      // closing: the others notice after the expiry instead
    }
    this.#sub?.unsubscribe();
  }

  #receive(data: Uint8Array): void {
    let p: WorkerPresence;
    try {
      p = decodeWorkerPresence(data);
    } catch (err) {
      this.log.warn({ code: isProtocolError(err) ? err.code : "UNKNOWN" }, "ignored an invalid presence message");
      return;
    }
    if (p.instance === this.opts.instance || p.set !== this.opts.set) return;
    if (p.state === "leaving") {
      this.#members.delete(p.instance);
    } else {
      const known = this.#members.has(p.instance);
      this.#members.set(p.instance, this.now() + p.intervalMs * PRESENCE_EXPIRY_INTERVALS);
      // A newcomer learns the fleet within one round trip instead of one interval.
      if (!known && !this.#stopped) this.#announceSoon ??= setImmediate(() => {
        this.#announceSoon = undefined;
        this.#announce("up");
      });
    }
    this.#recompute();
  }

  #recompute(): void {
    const now = this.now();
    for (const [m, expires] of this.#members) if (expires <= now) this.#members.delete(m);
    const owned = ownedPartitions(this.opts.instance, this.#members.keys(), this.opts.partitions);
    if (owned.length === this.#owned.length && owned.every((p, i) => p === this.#owned[i])) return;
    this.#owned = owned;
    this.log.info({ members: this.members, owned: owned.length }, "partition ownership changed");
    if (!this.#stopped) this.onChange(owned);
  }

  #announce(state: WorkerPresence["state"]): void {
    const msg: WorkerPresence = { v: 1, instance: this.opts.instance, set: this.opts.set, state, intervalMs: this.opts.intervalMs, startedAt: this.#startedAt };
    try {
      this.nc.publish(workerPresenceSubject(this.opts.bot, this.opts.set), encodeWorkerPresence(msg));
    } catch (err) {
      this.log.warn({ err }, "could not announce this worker");
    }
  }
}
