// The arithmetic of muxftpd-bench and bench:compare reports, on tiny made-up runs.
import { describe, expect, it } from 'vitest';
import {
  buildReport,
  type FtploadSummary,
  formatStatus,
  type HistogramJson,
  mergeHistograms,
  mergeSummaries,
  percentile,
  ratio,
  sumProgress,
} from '../../bench/client/report.js';
import { type CompareResult, cellValue, formatCell, formatMarkdown, matrixScenarios, ratios } from '../../bench/matrix.js';
import { chartRows } from '../../bench/chart.js';
import { parsePssKiB, parseStat, processTree } from '../../bench/client/pss.js';

function hist(values: number[]): HistogramJson {
  // exact buckets (< 64 us) keep the expected values obvious
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

function summary(over: Partial<FtploadSummary> = {}): FtploadSummary {
  return {
    type: 'summary', tag: '', scenario: 'small', mode: 'epsv', host: '127.0.0.1', port: 21, threads: 1,
    concurrency: 10, duration_s: 2, count: 0, elapsed_s: 2, ops: 100, ops_by_kind: { small: 100 },
    bytes: 4_000_000, sessions_started: 110, sessions_ok: 100, errors: {}, aborted_at_end: 10,
    alive_at_end: 0, max_established: 10, verified_size: 100, verified_checksum: 0, fd_limit: 20000,
    latency: hist([10, 20, 30, 40]), login_latency: hist([5]), ...over,
  };
}

describe('percentile', () => {
  it('picks the ceil(q*n)-th value from exact buckets', () => {
    const h = hist([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(percentile(h, 0.5)).toBe(5);
    expect(percentile(h, 0.9)).toBe(9);
    expect(percentile(h, 0.99)).toBe(10);
    expect(percentile(h, 1)).toBe(10);
  });
  it('reports a wide bucket at its midpoint, clamped to the recorded max', () => {
    const h: HistogramJson = { count: 2, sum_us: 2100, min_us: 1000, max_us: 1100, buckets: [[1024, 1056, 2]] };
    expect(percentile(h, 0.5)).toBe(1039.5);
    const narrow: HistogramJson = { count: 1, sum_us: 1030, min_us: 1030, max_us: 1030, buckets: [[1024, 1056, 1]] };
    expect(percentile(narrow, 0.5)).toBe(1030);
  });
  it('is 0 for an empty histogram', () => {
    expect(percentile(hist([]), 0.5)).toBe(0);
  });
});

describe('merging', () => {
  it('adds histogram buckets with the same bounds', () => {
    const m = mergeHistograms([hist([1, 2]), hist([2, 3]), hist([])]);
    expect(m.count).toBe(4);
    expect(m.buckets).toEqual([[1, 2, 1], [2, 3, 2], [3, 4, 1]]);
    expect(m.min_us).toBe(1);
    expect(m.max_us).toBe(3);
    expect(m.sum_us).toBe(8);
  });
  it('sums the counts of side-by-side processes and keeps the longest window', () => {
    const m = mergeSummaries([
      summary({ ops: 100, elapsed_s: 2, errors: { timeout_xfer: 1 }, alive_at_end: 5, concurrency: 10 }),
      summary({ ops: 50, elapsed_s: 2.5, errors: { timeout_xfer: 2, reset: 1 }, alive_at_end: 7, concurrency: 10 }),
    ]);
    expect(m.ops).toBe(150);
    expect(m.elapsed_s).toBe(2.5);
    expect(m.errors).toEqual({ timeout_xfer: 3, reset: 1 });
    expect(m.alive_at_end).toBe(12);
    expect(m.concurrency).toBe(20);
    expect(m.latency.count).toBe(8);
  });
});

describe('buildReport', () => {
  it('turns a summary into rates, latency in ms and error totals', () => {
    const r = buildReport(summary({ ops: 300, bytes: 6_000_000, elapsed_s: 3, errors: { a: 2, b: 1 } }));
    expect(r.opsPerSec).toBe(100);
    expect(r.mbPerSec).toBe(2);
    expect(r.errorTotal).toBe(3);
    expect(r.latencyMs.p50).toBe(0.02);
    expect(r.latencyMs.max).toBe(0.04);
    expect(r.latencyMs.mean).toBe(0.025);
  });
  it('divides the memory growth by the sessions alive', () => {
    const r = buildReport(summary({ scenario: 'idle', alive_at_end: 1000 }), 1, {
      baseline: { pssKiB: 10_000, processes: 1 },
      held: { pssKiB: 60_000, processes: 1 },
    });
    expect(r.memory?.perSessionKiB).toBe(50);
    const none = buildReport(summary({ alive_at_end: 0 }), 1, {
      baseline: { pssKiB: 1, processes: 1 },
      held: { pssKiB: 2, processes: 1 },
    });
    expect(none.memory?.perSessionKiB).toBeNull();
  });
  it('has zero rates for a zero-length window rather than Infinity', () => {
    expect(buildReport(summary({ elapsed_s: 0 })).opsPerSec).toBe(0);
  });
});

describe('ratio and status line', () => {
  it('is null without a base', () => {
    expect(ratio(5, 0)).toBeNull();
    expect(ratio(null, 3)).toBeNull();
    expect(ratio(1, 3)).toBe(0.33);
  });
  it('reports rates over the last tick', () => {
    const a = { type: 'progress' as const, t: 1, open: 5, established: 4, ops: 100, bytes: 1e6, errors: 0 };
    const b = { ...a, t: 2, ops: 300, bytes: 3e6 };
    expect(formatStatus(a, b)).toContain('200 ops/s');
    expect(formatStatus(a, b)).toContain('2.0 MB/s');
    expect(sumProgress([a, b]).ops).toBe(400);
  });
});

describe('comparison matrix', () => {
  const login = matrixScenarios.find((s) => s.name === 'login');
  const upload = matrixScenarios.find((s) => s.name === 'upload');
  if (!login || !upload) throw new Error('matrix lacks login/upload');
  const cell = (server: string, scenario: string, s: Partial<FtploadSummary>): CompareResult['cells'][number] => ({
    server, scenario, report: buildReport(summary({ scenario, ...s })), failure: null, argv: [['ftpload']],
  });
  const result: CompareResult = {
    date: '2025-01-01T00:00:00Z', command: 'npm run bench:compare', machine: { nproc: '2' }, settings: { duration: 2 },
    servers: [
      { name: 'muxftpd', version: '0.1.0', installed: true, note: '' },
      { name: 'vsftpd', version: '3.0.3', installed: true, note: '' },
      { name: 'proftpd', version: '', installed: false, note: 'not installed' },
    ],
    scenarios: [login, upload],
    cells: [
      cell('muxftpd', 'login', { ops: 2000, elapsed_s: 2 }),
      cell('vsftpd', 'login', { ops: 500, elapsed_s: 2, errors: { timeout_greeting: 3 } }),
      cell('muxftpd', 'upload', { ops: 0, bytes: 0, errors: { xfer_cmd_502: 40 } }),
      cell('vsftpd', 'upload', { ops: 10, bytes: 20e6, elapsed_s: 2 }),
    ],
  };
  it('computes each server’s ratio to muxftpd', () => {
    expect(ratios(result, login)).toEqual({ muxftpd: 1, vsftpd: 0.25, proftpd: null });
    expect(cellValue(result.cells[2], 'mbPerSec')).toBeNull();
    expect(ratios(result, upload)['vsftpd']).toBeNull();
    // MB/s counts bytes moved even when no transfer finished in the window
    const partial = { ...result.cells[3]!, report: buildReport(summary({ ops: 0, bytes: 5e6, elapsed_s: 5 })) };
    expect(cellValue(partial, 'mbPerSec')).toBe(1);
    expect(cellValue(partial, 'opsPerSec')).toBeNull();
  });
  it('marks runs with errors and explains missing figures', () => {
    expect(formatCell(result, login, 'vsftpd')).toBe('250 (0.25x) †');
    expect(formatCell(result, upload, 'muxftpd')).toBe('n/a (xfer_cmd_502)');
    const md = formatMarkdown(result);
    expect(md).toContain('| logins/s (50 sessions) | sessions/s | 1000 | 250 (0.25x) † |');
    expect(md).toContain('vsftpd / login: 3 of 503: timeout_greeting=3');
    expect(md).toContain('proftpd — not measured: not installed');
  });
  it('charts only figures that have a ratio', () => {
    expect(chartRows(result)).toEqual([
      { scenario: 'login', server: 'muxftpd', ratio: 1 },
      { scenario: 'login', server: 'vsftpd', ratio: 0.25 },
    ]);
  });
});

describe('server memory', () => {
  it('parses /proc stat and smaps_rollup', () => {
    expect(parseStat('42 (my (odd) name) S 1 42 42 0 -1')).toEqual({ pid: 42, ppid: 1, session: 42 });
    expect(parsePssKiB('Rss: 10 kB\nPss:                 1234 kB\n')).toBe(1234);
  });
  it('takes the descendants and the session of the server', () => {
    const stats = [
      { pid: 10, ppid: 1, session: 10 },
      { pid: 11, ppid: 10, session: 10 },
      { pid: 12, ppid: 11, session: 12 }, // a child that left the session
      { pid: 13, ppid: 1, session: 10 }, // re-parented, still in the session
      { pid: 20, ppid: 1, session: 20 },
    ];
    expect(processTree(stats, 10).sort()).toEqual([10, 11, 12, 13]);
  });
});
