// Per-sender token bucket: `burst` tokens, refilled at `perMinute` per minute. The first refusal of
// an episode says so (the caller sends one polite notice); later refusals are silent until the
// sender is allowed again.

/** Outcome of {@link RateLimiter.take}. */
export type RateDecision = "allowed" | "limited-first" | "limited";

interface Bucket {
  tokens: number;
  updatedAt: number;
  noticed: boolean;
}

/** A token bucket per key, bounded in memory (idle full buckets are forgotten). */
export class RateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #maxKeys: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: { perMinute: number; burst: number; now?: () => number; maxKeys?: number }) {
    if (!(opts.perMinute > 0) || !(opts.burst >= 1)) throw new RangeError("perMinute must be > 0 and burst >= 1");
    this.#perMs = opts.perMinute / 60_000;
    this.#burst = opts.burst;
    this.#now = opts.now ?? Date.now;
    this.#maxKeys = opts.maxKeys ?? 100_000;
  }

  /** Takes one token for `key`. */
  take(key: string): RateDecision {
    const now = this.#now();
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.#maxKeys) this.#evict(now);
      b = { tokens: this.#burst, updatedAt: now, noticed: false };
      this.#buckets.set(key, b);
    } else {
      b.tokens = Math.min(this.#burst, b.tokens + (now - b.updatedAt) * this.#perMs);
      b.updatedAt = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      b.noticed = false;
      return "allowed";
    }
    if (b.noticed) return "limited";
    b.noticed = true;
    return "limited-first";
  }

  /** Number of keys tracked. */
  get size(): number {
    return this.#buckets.size;
  }

  #evict(now: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + (now - b.updatedAt) * this.#perMs >= this.#burst) this.#buckets.delete(k);
    }
    // Still full of active senders: forget the oldest (Map keeps insertion order).
    while (this.#buckets.size >= this.#maxKeys) {
      const first = this.#buckets.keys().next();
      if (first.done) break;
      this.#buckets.delete(first.value);
    }
  }
}
