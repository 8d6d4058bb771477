// Latency histograms as ftpload prints them (native/bench/ftpload/histogram.h):
// merged bucket by bucket across processes, and read as percentiles in ms.

/** Sparse histogram as ftpload prints it: [lower_us, upper_us_exclusive, count] buckets. */
export interface HistogramJson {
  count: number;
  sum_us: number;
  min_us: number;
  max_us: number;
  buckets: Array<[number, number, number]>;
}

export interface LatencyMs {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

export function emptyHistogram(): HistogramJson {
  return { count: 0, sum_us: 0, min_us: 0, max_us: 0, buckets: [] };
}

/** Adds bucket counts with the same bounds; min over non-empty inputs, max over all. */
export function mergeHistograms(hs: readonly HistogramJson[]): HistogramJson {
  const byLower = new Map<number, [number, number, number]>();
  let count = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let max = 0;
  for (const h of hs) {
    count += h.count;
    sum += h.sum_us;
    if (h.count > 0) min = Math.min(min, h.min_us);
    max = Math.max(max, h.max_us);
    for (const [lo, hi, n] of h.buckets) {
      const b = byLower.get(lo);
      if (b) b[2] += n;
      else byLower.set(lo, [lo, hi, n]);
    }
  }
  const buckets = [...byLower.values()].sort((a, b) => a[0] - b[0]);
  return { count, sum_us: sum, min_us: count > 0 ? min : 0, max_us: max, buckets };
}

/**
 * The q-quantile (0 < q <= 1) in microseconds: the bucket holding the
 * ceil(q * count)-th smallest value, reported at its midpoint and clamped to
 * the recorded [min, max]. Buckets below 64 us are exact.
 */
export function percentile(h: HistogramJson, q: number): number {
  if (h.count === 0) return 0;
  if (q >= 1) return h.max_us;
  const rank = Math.max(1, Math.ceil(q * h.count));
  let seen = 0;
  for (const [lo, hi, n] of h.buckets) {
    seen += n;
    if (seen >= rank) {
      const mid = lo + (hi - 1 - lo) / 2;
      return Math.min(h.max_us, Math.max(h.min_us, mid));
    }
  }
  return h.max_us;
}

export function latencyMs(h: HistogramJson): LatencyMs {
  const ms = (us: number): number => Math.round(us) / 1000;
  return {
    p50: ms(percentile(h, 0.5)),
    p90: ms(percentile(h, 0.9)),
    p99: ms(percentile(h, 0.99)),
    max: ms(h.max_us),
    mean: h.count > 0 ? ms(h.sum_us / h.count) : 0,
  };
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
