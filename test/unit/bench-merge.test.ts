// muxftpd-bench merge and --start-at (issue 25, load from many hosts) on
// made-up runs with known histograms: the merged percentiles, overall and per
// phase, are those of all the values together, never an average of the runs'
// percentiles; counts add up; the window is the longest run's.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hist, summary } from './helpers/summary.js';
import { formatMerged, mergeFiles, mergeRuns } from '../../bench/client/merge.js';
import { BenchUsageError, parseCli, startAt } from '../../bench/client/options.js';
import { phaseNames, type PhasesJson } from '../../bench/client/phases.js';
import { buildReport } from '../../bench/client/report.js';
import { msUntil, waitUntil } from '../../bench/client/start-at.js';

const fill = (n: number, us: number): number[] => new Array<number>(n).fill(us);

function phases(values: number[]): PhasesJson {
  const p = {} as PhasesJson;
  for (const n of phaseNames) p[n] = hist(n === 'login' ? values : []);
  return p;
}

// Run A: 60 operations of 10 µs and 40 of 20 µs (p50 10, p99 20) in 2 s.
// Run B: 100 operations of 40 µs (p50 = p99 = 40) in 2.5 s.
// Together, 200 values: the 100th is 20 µs, the 180th and the 198th 40 µs.
// Averaged percentiles would say p50 25 µs, p90 (20 + 40) / 2 = 30 µs.
const a = summary({ ops: 100, elapsed_s: 2, latency: hist([...fill(60, 10), ...fill(40, 20)]), phases: phases([...fill(60, 10), ...fill(40, 20)]) });
const b = summary({ ops: 100, elapsed_s: 2.5, errors: { xfer_cmd_550: 2 }, latency: hist(fill(100, 40)), phases: phases(fill(100, 40)) });

describe('muxftpd-bench merge', () => {
  it('takes the percentiles from the merged histograms, overall and per phase', () => {
    const m = mergeRuns([{ summary: a, processes: 1, startedAt: 1000.5 }, { summary: b, processes: 2, startedAt: 1000.75 }]);
    expect(m.latencyMs).toEqual({ p50: 0.02, p90: 0.04, p99: 0.04, max: 0.04, mean: 0.027 });
    expect(m.phases?.login).toEqual({ count: 200, p50: 0.02, p99: 0.04, max: 0.04 });
    expect(m.phases?.connect.count).toBe(0);
    // Each run alone, for contrast: what averaging would have started from.
    expect(buildReport(a).latencyMs.p50).toBe(0.01);
    expect(buildReport(b).latencyMs.p50).toBe(0.04);
    expect(m.summary?.latency.buckets).toEqual([[10, 11, 60], [20, 21, 40], [40, 41, 100]]);
  });

  it('adds the counts, takes the longest window, and says how far apart the runs started', () => {
    const m = mergeRuns([{ summary: a, processes: 1, startedAt: 1000.5 }, { summary: b, processes: 2, startedAt: 1000.75 }]);
    expect(m.ops).toBe(200);
    expect(m.elapsedS).toBe(2.5);
    expect(m.opsPerSec).toBe(80);
    expect(m.processes).toBe(3);
    expect(m.errors).toEqual({ xfer_cmd_550: 2 });
    expect(m.merged).toEqual({ runs: 2, firstStart: 1000.5, startSpreadS: 0.25 });
    expect(m.startedAt).toBe(1000.5);
    expect(formatMerged(m.merged)).toBe('merged  2 runs, started within 0.25 s of each other');
  });

  it('reads --json reports and ftpload summary lines, and a merged report merges again', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'muxftpd-merge-'));
    try {
      const fa = path.join(dir, 'a.json');
      const fb = path.join(dir, 'b.json');
      const fab = path.join(dir, 'ab.json');
      writeFileSync(fa, JSON.stringify({ ...buildReport(a), startedAt: 7, summary: a }));
      writeFileSync(fb, JSON.stringify(b)); // what a Locust user writes: ftpload's own line
      const m = mergeFiles([fa, fb]);
      expect(m.ops).toBe(200);
      expect(m.latencyMs.p50).toBe(0.02);
      expect(m.merged.startSpreadS).toBe(0);
      writeFileSync(fab, JSON.stringify(m));
      const again = mergeFiles([fab, fa]);
      expect(again.ops).toBe(300);
      // 300 values: 120 of 10 µs, 80 of 20 µs, 100 of 40 µs; the 150th is 20 µs.
      expect(again.latencyMs.p50).toBe(0.02);
      expect(again.phases?.login.count).toBe(300);
      const bare = path.join(dir, 'old.json');
      writeFileSync(bare, JSON.stringify(buildReport(a)));
      expect(() => mergeFiles([bare])).toThrow(/no summary/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('needs at least one run', () => {
    expect(() => mergeRuns([])).toThrow(/no runs/);
  });
});

describe('--start-at', () => {
  it('waits until the given unix time, and not at all once it has passed', async () => {
    expect(msUntil(100.25, 100_000)).toBe(250);
    expect(msUntil(99, 100_000)).toBe(0);
    const t = Date.now() / 1000 + 0.3;
    const late = await waitUntil(t);
    expect(Date.now() / 1000).toBeGreaterThanOrEqual(t - 0.002);
    expect(late).toBeGreaterThanOrEqual(0);
    expect(await waitUntil(Date.now() / 1000 - 5)).toBeGreaterThan(4.9);
  });

  it('takes seconds, refusing a time more than a day ahead (milliseconds by mistake)', () => {
    const now = 1_780_000_000_000;
    expect(startAt('1780000030.5', now)).toBe(1_780_000_030.5);
    expect(startAt(undefined, now)).toBeUndefined();
    expect(() => startAt('1780000030000', now)).toThrow(/more than 24 h ahead/);
    expect(() => startAt('soon', now)).toThrow(BenchUsageError);
    expect(parseCli(['--scenario', 'login', '--start-at', '12.5']).startAt).toBe(12.5);
  });
});
