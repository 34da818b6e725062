// The storage server's per-client token bucket (reference 4.1): 600 requests of burst, refilled at
// 300 per second, per client IP and per snode. Off by default on the devnet (every client is
// 127.0.0.1 there, so one busy test would throttle all the others).

/** Bucket size and refill rate of mainnet snodes. */
export const RATE_LIMIT = { burst: 600, perSecond: 300 } as const;

/** A token bucket per key. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly burst: number = RATE_LIMIT.burst,
    private readonly perSecond: number = RATE_LIMIT.perSecond,
  ) {}

  /** Takes one token for `key` at time `now` (ms); false when the bucket is empty. */
  take(key: string, now: number): boolean {
    const b = this.buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + ((now - b.at) / 1000) * this.perSecond);
    b.at = now;
    if (b.tokens < 1) {
      this.buckets.set(key, b);
      return false;
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > 10_000) this.buckets.clear(); // bounded memory; loopback has few keys anyway
    return true;
  }
}
