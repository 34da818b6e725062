/**
 * Network time (docs/session-protocol.md 8.1): every storage-server answer carries `t`; the offset
 * `local - t` is the median of the last samples (robust against one snode with a wrong clock).
 * A snode that answered 406 gets its own offset until it agrees with the network again.
 */

/** `t` values before 2021-01-01 are bogus. */
const MIN_PLAUSIBLE_T = 1_609_419_600_000;

export class NetworkClock {
  readonly #samples: number[] = [];
  readonly #perSnode = new Map<string, number>();
  readonly #maxSamples: number;
  readonly #localNow: () => number;

  constructor(options: { maxSamples?: number; localNow?: () => number } = {}) {
    this.#maxSamples = options.maxSamples ?? 10;
    this.#localNow = options.localNow ?? Date.now;
  }

  /** Current offset (ms) to subtract from local time. */
  get offset(): number {
    if (this.#samples.length === 0) return 0;
    const sorted = [...this.#samples].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1 ? (sorted[mid] as number) : Math.round(((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2);
  }

  /** Network time (ms); for a snode with its own offset, that snode's time. */
  now(snode?: string): number {
    const own = snode === undefined ? undefined : this.#perSnode.get(snode);
    return this.#localNow() - (own ?? this.offset);
  }

  /** Records a server time `t` (ms) seen at about local time `localAt`. */
  observe(t: unknown, snode?: string, localAt: number = this.#localNow()): void {
    if (typeof t !== "number" || !Number.isFinite(t) || t < MIN_PLAUSIBLE_T) return;
    const offset = localAt - t;
    if (snode !== undefined && this.#perSnode.has(snode)) {
      // A snode whose clock agrees with the network again (within 5 s) loses its override;
      // until then its answers do not move the network offset.
      if (this.#samples.length > 0 && Math.abs(offset - this.offset) >= 5_000) {
        this.#perSnode.set(snode, offset);
        return;
      }
      this.#perSnode.delete(snode);
    }
    this.#samples.push(offset);
    if (this.#samples.length > this.#maxSamples) this.#samples.shift();
  }

  /** Pins the offset of one snode after it refused our timestamp (406). */
  setSnodeOffset(snode: string, t: number, localAt: number = this.#localNow()): void {
    if (!Number.isFinite(t) || t < MIN_PLAUSIBLE_T) return;
    this.#perSnode.set(snode, localAt - t);
  }
}
