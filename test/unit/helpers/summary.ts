// Made-up ftpload output for the bench's unit tests: a histogram of values
// below 64 µs (those buckets are exact, which keeps the expected percentiles
// obvious) and a summary of a small run.
import type { FtploadSummary, HistogramJson } from '../../../bench/client/report.js';

export function hist(values: number[]): HistogramJson {
  const counts = new Map<number, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return {
    count: values.length,
    sum_us: values.reduce((a, b) => a + b, 0),
    min_us: values.length ? Math.min(...values) : 0,
    max_us: values.length ? Math.max(...values) : 0,
    buckets: [...counts.entries()].sort((a, b) => a[0] - b[0]).map(([v, n]) => [v, v + 1, n]),
  };
}

/** 100 small-file sessions in 2 s, 10 cut at the end; `over` replaces fields. */
export function summary(over: Partial<FtploadSummary> = {}): FtploadSummary {
  return {
    type: 'summary', tag: '', scenario: 'small', mode: 'epsv', host: '127.0.0.1', port: 21, threads: 1,
    concurrency: 10, duration_s: 2, count: 0, elapsed_s: 2, ops: 100, ops_by_kind: { small: 100 },
    bytes: 4_000_000, sessions_started: 110, sessions_ok: 100, errors: {}, aborted_at_end: 10,
    alive_at_end: 0, max_established: 10, verified_size: 100, verified_checksum: 0, fd_limit: 20000,
    latency: hist([10, 20, 30, 40]), login_latency: hist([5]), ...over,
  };
}
