/** Per-plugin counters of this worker: handled, errors, latency (for $SRV stats and /metrics). */

/** One plugin's counters. */
export interface PluginCounters {
  handled: number;
  errors: number;
  timeouts: number;
  /** Sum of handler latencies (ms) of handled events. */
  totalMs: number;
  /** Latest handler latency (ms). */
  lastMs: number;
  /** Largest handler latency (ms). */
  maxMs: number;
}

/** Collects counters per plugin; `onRecord` mirrors them into Prometheus. */
export class PluginStats {
  private readonly counters = new Map<string, PluginCounters>();

  constructor(private readonly onRecord?: (plugin: string, outcome: "ok" | "error" | "timeout", ms: number) => void) {}

  /** Records one handled event. */
  record(plugin: string, outcome: "ok" | "error" | "timeout", ms: number): void {
    let c = this.counters.get(plugin);
    if (!c) {
      c = { handled: 0, errors: 0, timeouts: 0, totalMs: 0, lastMs: 0, maxMs: 0 };
      this.counters.set(plugin, c);
    }
    c.handled++;
    if (outcome !== "ok") c.errors++;
    if (outcome === "timeout") c.timeouts++;
    c.totalMs += ms;
    c.lastMs = ms;
    c.maxMs = Math.max(c.maxMs, ms);
    this.onRecord?.(plugin, outcome, ms);
  }

  /** A snapshot: plugin → counters plus the average latency. */
  snapshot(): Record<string, PluginCounters & { avgMs: number }> {
    const out: Record<string, PluginCounters & { avgMs: number }> = {};
    for (const [name, c] of this.counters) out[name] = { ...c, avgMs: c.handled === 0 ? 0 : c.totalMs / c.handled };
    return out;
  }
}
