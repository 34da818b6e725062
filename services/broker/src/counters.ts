/** The broker's counters since start (the `info` endpoint's BotCounters). */
export interface Counters {
  received: number;
  published: number;
  sent: number;
  failed: number;
  dropped: number;
  deadLettered: number;
}

/** Fresh zeroed counters. */
export function newCounters(): Counters {
  return { received: 0, published: 0, sent: 0, failed: 0, dropped: 0, deadLettered: 0 };
}
