/** Small statistics helpers for the bench (no dependencies). */

/** The q-quantile (0..1) of `values` by the nearest-rank method; NaN when empty. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank]!;
}

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export function summarize(latenciesMs: readonly number[]): LatencySummary {
  return {
    count: latenciesMs.length,
    p50Ms: quantile(latenciesMs, 0.5),
    p90Ms: quantile(latenciesMs, 0.9),
    p99Ms: quantile(latenciesMs, 0.99),
    maxMs: latenciesMs.length === 0 ? Number.NaN : Math.max(...latenciesMs),
  };
}
