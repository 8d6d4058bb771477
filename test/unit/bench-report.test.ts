// The arithmetic of muxftpd-bench and bench:compare reports, on tiny made-up runs.
import { describe, expect, it } from 'vitest';
import { hist, summary } from './helpers/summary.js';
import {
  buildReport,
  formatReport,
  type FtploadSummary,
  formatStatus,
  type HistogramJson,
  mergeHistograms,
  mergeSummaries,
  percentile,
  ratio,
  sumProgress,
} from '../../bench/client/report.js';
import { bestPeer, cellValue, findCell, ratios, scalingRatio, vsBestPeer } from '../../bench/matrix/figures.js';
import type { Cell, CompareResult } from '../../bench/matrix/result.js';
import { type MatrixScenario, matrixScenarios } from '../../bench/matrix/scenarios.js';
import { formatCell, formatMarkdown, formatTerminal, formatVsBest, tableScenarios } from '../../bench/matrix/tables.js';
import { chartRows } from '../../bench/chart.js';
import { cpuBetween, parseBoxTicks, parseStatTicks } from '../../bench/client/cpu.js';
import { parsePssKiB, parseStat, processTree, sampleInTime } from '../../bench/client/pss.js';

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
  it('adds the passive and cut-at-the-end counts of processes (absent in older builds)', () => {
    const m = mergeSummaries([
      summary({ max_data_held: 30, aborted_by_state: { greeting: 2, data_hold: 1 } }),
      summary({ max_data_held: 20, aborted_by_state: { greeting: 3 } }),
      summary({}),
    ]);
    expect(m.max_data_held).toBe(50);
    expect(m.aborted_by_state).toEqual({ greeting: 5, data_hold: 1 });
    const r = buildReport(m);
    expect(r.maxDataHeld).toBe(50);
    expect(r.abortedByState).toEqual({ greeting: 5, data_hold: 1 });
    expect(buildReport(summary({})).maxDataHeld).toBe(0);
  });
  it('adds the address truth of processes (absent in older builds) and prints it', () => {
    const t = { pasvAsExpected: 3, pasvUnexpected: 1, activeAsSeen: 2, activeFromElsewhere: 0, activeRefused: 4 };
    const m = mergeSummaries([summary({ address_truth: t, expect_pasv_address: '10.0.0.1' }), summary({ address_truth: t }), summary({})]);
    expect(m.address_truth).toEqual({ pasvAsExpected: 6, pasvUnexpected: 2, activeAsSeen: 4, activeFromElsewhere: 0, activeRefused: 8 });
    expect(t.pasvAsExpected).toBe(3); // the inputs are left alone
    const r = buildReport(m);
    expect(r.addressTruth).toEqual(m.address_truth);
    expect(formatReport(r)).toMatch(/addresses +227\/229 6 as expected \(10\.0\.0\.1\), 2 unexpected; active: 4 from the server, 0 from elsewhere, 8 PORT\/EPRT refused/);
    expect(buildReport(summary({})).addressTruth).toBeUndefined();
    expect(mergeSummaries([summary({})]).address_truth).toBeUndefined();
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
    // divided by the sessions logged in when the sample was taken, when known
    const sampled = buildReport(summary({ scenario: 'idle', alive_at_end: 1000 }), 1, {
      baseline: { pssKiB: 10_000, processes: 1 },
      held: { pssKiB: 60_000, processes: 1 },
      sessions: 500,
    });
    expect(sampled.memory).toMatchObject({ sessions: 500, perSessionKiB: 100 });
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
  const row = (name: string): MatrixScenario => {
    const sc = matrixScenarios.find((s) => s.name === name);
    if (!sc) throw new Error(`matrix lacks ${name}`);
    return sc;
  };
  const login = row('login-100');
  const upload = row('upload-100');
  const idle = row('idle');
  const idleMemory = row('idle-memory');
  const passive = row('passive-5000');
  const cell = (server: string, scenario: string, s: Partial<FtploadSummary>, more: Partial<Cell> = {}): Cell => ({
    server, scenario, report: buildReport(summary({ scenario, ...s })), failure: null, argv: [['ftpload']], ...more,
  });
  const memCell = (server: string, alive: number, baseline: number, held: number, sessions: number): Cell => ({
    server, scenario: 'idle', failure: null, argv: [],
    report: buildReport(summary({ scenario: 'idle', concurrency: 1000, alive_at_end: alive, aborted_at_end: 1000 - alive }), 1, {
      baseline: { pssKiB: baseline, processes: 1 }, held: { pssKiB: held, processes: 1 }, sessions,
    }),
  });
  const result: CompareResult = {
    date: '2025-01-01T00:00:00Z', command: 'npm run bench:compare', machine: { nproc: '2' },
    settings: { duration: 2, mode: 'epsv', passiveSessions: 100, idleSessions: 1000 },
    servers: [
      { name: 'muxftpd', version: '0.1.0', installed: true, note: '' },
      { name: 'vsftpd', version: '3.0.3', installed: true, note: '' },
      { name: 'pyftpdlib', version: '1.5', installed: true, note: '' },
      { name: 'proftpd', version: '', installed: false, note: 'not installed' },
    ],
    scenarios: [login, upload, passive, idle, idleMemory],
    cells: [
      cell('muxftpd', 'login-100', { ops: 2000, elapsed_s: 2 }),
      cell('vsftpd', 'login-100', { ops: 500, elapsed_s: 2, errors: { timeout_greeting: 3 } }),
      cell('pyftpdlib', 'login-100', { ops: 1600, elapsed_s: 2 }),
      cell('muxftpd', 'upload-100', { ops: 0, bytes: 0, errors: { xfer_cmd_550: 40 } }),
      cell('vsftpd', 'upload-100', { ops: 10, bytes: 20e6, elapsed_s: 2 }),
      cell('pyftpdlib', 'upload-100', { ops: 10, bytes: 30e6, elapsed_s: 2 }),
      cell('muxftpd', 'passive-5000', { ops: 100, concurrency: 100, max_data_held: 100, aborted_at_end: 0 }, { pasvPorts: '4000-4999' }),
      cell('vsftpd', 'passive-5000', {
        ops: 40, concurrency: 100, max_data_held: 60, aborted_at_end: 50, aborted_by_state: { greeting: 50 },
        errors: { timeout_greeting: 10 },
      }, { pasvPorts: '10000-11999' }),
      memCell('muxftpd', 1000, 10_000, 12_000, 1000),
      memCell('vsftpd', 800, 1_000, 201_000, 800),
      memCell('pyftpdlib', 1000, 10_000, 14_000, 1000),
    ],
  };
  it('computes each server’s ratio to muxftpd', () => {
    expect(ratios(result, login)).toEqual({ muxftpd: 1, vsftpd: 0.25, pyftpdlib: 0.8, proftpd: null });
    expect(cellValue(result.cells[3], 'mbPerSec')).toBeNull();
    expect(ratios(result, upload)['vsftpd']).toBeNull();
    // MB/s counts bytes moved even when no transfer finished in the window
    const partial = { ...result.cells[4]!, report: buildReport(summary({ ops: 0, bytes: 5e6, elapsed_s: 5 })) };
    expect(cellValue(partial, 'mbPerSec')).toBe(1);
    expect(cellValue(partial, 'opsPerSec')).toBeNull();
  });
  it('divides muxftpd’s figure by the best peer’s', () => {
    expect(bestPeer(result, login)).toEqual({ server: 'pyftpdlib', value: 800 });
    expect(vsBestPeer(result, login)).toBe(1.25);
    expect(formatVsBest(result, login)).toBe('1.25x (pyftpdlib)');
    // no figure for muxftpd: no ratio, the best peer still named
    expect(vsBestPeer(result, upload)).toBeNull();
    expect(formatVsBest(result, upload)).toBe('— (best peer pyftpdlib: 15.0)');
    // a peer with errors still counts; pyftpdlib ran no passive-5000
    expect(bestPeer(result, passive)).toEqual({ server: 'vsftpd', value: 40 });
    expect(vsBestPeer(result, passive)).toBe(2.5);
  });
  it('shows the reference server (bare) beside the peers but never takes it as the best peer', () => {
    const withBare: CompareResult = {
      ...result,
      servers: [...result.servers, { name: 'bare', version: 'reference', installed: true, note: '' }],
      cells: [...result.cells, cell('bare', 'login-100', { ops: 2400, elapsed_s: 2 })],
    };
    expect(ratios(withBare, login)['bare']).toBe(1.2);
    expect(bestPeer(withBare, login)).toEqual({ server: 'pyftpdlib', value: 800 });
    expect(formatVsBest(withBare, login)).toBe('1.25x (pyftpdlib)');
  });
  it('takes the smallest figure as best where lower is better (memory per session)', () => {
    // growth ÷ sessions held when sampled: muxftpd 2, vsftpd 250, pyftpdlib 4 KiB
    expect(cellValue(findCell(result, 'vsftpd', 'idle-memory'), 'perSessionKiB')).toBe(250);
    expect(bestPeer(result, idleMemory)).toEqual({ server: 'pyftpdlib', value: 4 });
    expect(vsBestPeer(result, idleMemory)).toBe(0.5);
    expect(formatCell(result, idleMemory, 'muxftpd')).toBe('2.00 (1000 sessions)');
    // held sessions are the idle row's figure; the best peer holds the most
    expect(bestPeer(result, idle)).toEqual({ server: 'pyftpdlib', value: 1000 });
    expect(formatCell(result, idle, 'vsftpd')).toBe('800 of 1000 held (200 still logging in), 250 KiB/session (0.8x)');
  });
  it('says how many passive sessions finished, how many held at once, and on which ports', () => {
    expect(formatCell(result, passive, 'muxftpd')).toBe('100 of 100, 100 held at once, ports 4000-4999');
    expect(formatCell(result, passive, 'vsftpd')).toBe('40 of 100, 60 held at once (50 unfinished at the end), ports 10000-11999 (0.4x) †');
    const md = formatMarkdown(result);
    expect(md).toContain('muxftpd 4000-4999 (1000 ports), vsftpd 10000-11999 (2000 ports)');
    expect(md).toContain('- vsftpd / passive-5000: 50: greeting=50');
  });
  it('shows the CPU of each row\'s median round, and no CPU table when no run measured it', () => {
    expect(formatMarkdown(result)).not.toContain('## CPU');
    const cpu = { boxBusyPct: 97, serverCores: 1.1, clientCores: 0.8 };
    const measured: CompareResult = {
      ...result,
      cells: result.cells.map((c) => (c.server === 'muxftpd' && c.scenario === 'login-100' ? { ...c, cpu } : c)),
    };
    const md = formatMarkdown(measured);
    expect(md).toContain('## CPU while each load ran (median round: box busy % of 2 CPUs · server cores · ftpload cores)');
    expect(md).toContain('| login-100 | 97% · 1.1 · 0.8 | — | — |');
    expect(md).toContain('| upload-100 | — | — | — |');
  });
  it('marks runs with errors and explains missing figures', () => {
    expect(formatCell(result, login, 'vsftpd')).toBe('250 (0.25x) †');
    expect(formatCell(result, upload, 'muxftpd')).toBe('n/a (xfer_cmd_550)');
    const md = formatMarkdown(result);
    expect(md).toContain('| logins/s, 100 sessions at once | sessions/s | 1000 | 250 (0.25x) † | 800 (0.8x) | 1.25x (pyftpdlib) |');
    expect(md).toContain('| KiB/session (lower is better) |');
    expect(md).toContain('vsftpd / login-100: 3 of 503: timeout_greeting=3');
    expect(md).toContain('proftpd — not measured: not installed');
    expect(md).toContain('Data connections: EPSV.');
    expect(md).not.toContain('## Scaling');
  });
  it('charts the ratios to muxftpd, not the lower-is-better rows', () => {
    const rows = chartRows(result);
    expect(rows.filter((r) => r.scenario === 'login-100')).toEqual([
      { scenario: 'login-100', server: 'muxftpd', ratio: 1 },
      { scenario: 'login-100', server: 'vsftpd', ratio: 0.25 },
      { scenario: 'login-100', server: 'pyftpdlib', ratio: 0.8 },
    ]);
    expect(rows.some((r) => r.scenario === 'upload-100')).toBe(false);
    expect(rows.some((r) => r.scenario === 'idle-memory')).toBe(false);
  });
  it('puts muxftpd --threads 2 ÷ --threads 1 in a table of its own', () => {
    const scaled: CompareResult = {
      ...result,
      scenarios: [login, row('threads-1'), row('threads-2')],
      cells: [
        ...result.cells,
        cell('muxftpd', 'threads-1', { ops: 1000, elapsed_s: 2 }),
        cell('muxftpd', 'threads-2', { ops: 1800, elapsed_s: 2 }),
      ],
    };
    expect(scalingRatio(scaled)).toEqual({ t1: 500, t2: 900, ratio: 1.8, spread: null });
    expect(tableScenarios(scaled).map((s) => s.name)).toEqual(['login-100']);
    const md = formatMarkdown(scaled);
    expect(md).toContain('| 500 | 900 | 1.8x | — |');
    expect(formatTerminal(scaled)).toContain('2 ÷ 1 = 1.8x');
    expect(chartRows(scaled).some((r) => r.scenario.startsWith('threads'))).toBe(false);
  });
  describe('over several rounds', () => {
    // login-100 in three rounds: muxftpd 1000, 400 (a noisy round, with errors), 900 logins/s;
    // pyftpdlib 500, 450, 300. threads-1/threads-2 in two rounds.
    const login3 = (server: string, round: number, ops: number, more: Partial<FtploadSummary> = {}): Cell =>
      cell(server, 'login-100', { ops: ops * 2, elapsed_s: 2, ...more }, { round, argv: [[`ftpload-${server}-${round}`]] });
    const rounds: CompareResult = {
      ...result,
      settings: { ...result.settings, rounds: 3 },
      servers: result.servers.filter((s) => s.name === 'muxftpd' || s.name === 'pyftpdlib'),
      scenarios: [login, row('threads-1'), row('threads-2')],
      cells: [
        login3('muxftpd', 0, 1000), login3('pyftpdlib', 0, 500),
        login3('pyftpdlib', 1, 450), login3('muxftpd', 1, 400, { errors: { timeout_greeting: 7 } }),
        login3('muxftpd', 2, 900), login3('pyftpdlib', 2, 300),
        cell('muxftpd', 'threads-1', { ops: 1000, elapsed_s: 2 }, { round: 0 }),
        cell('muxftpd', 'threads-2', { ops: 1500, elapsed_s: 2 }, { round: 0 }),
        cell('muxftpd', 'threads-1', { ops: 1000, elapsed_s: 2 }, { round: 1 }),
        cell('muxftpd', 'threads-2', { ops: 900, elapsed_s: 2 }, { round: 1 }),
      ],
    };
    it('reads each server’s median round, and of two rounds the worse', () => {
      expect(cellValue(findCell(rounds, 'muxftpd', 'login-100'), 'opsPerSec')).toBe(900);
      expect(cellValue(findCell(rounds, 'pyftpdlib', 'login-100'), 'opsPerSec')).toBe(450);
      expect(vsBestPeer(rounds, login)).toBe(2);
      expect(scalingRatio(rounds)).toEqual({ t1: 500, t2: 450, ratio: 0.9, spread: { min: 0.9, max: 1.5 } });
    });
    it('shows the ratio round by round, the errors of every round, and each load once', () => {
      // rounds: 1000 ÷ 500 = 2, 400 ÷ 450 = 0.89, 900 ÷ 300 = 3
      expect(formatVsBest(rounds, login)).toBe('2x (pyftpdlib; rounds 0.89-3x)');
      const md = formatMarkdown(rounds);
      expect(md).toContain('| logins/s, 100 sessions at once | sessions/s | 900 | 450 (0.5x) | 2x (pyftpdlib; rounds 0.89-3x) |');
      expect(md).toContain('- muxftpd / login-100 (round 2): 7 of 807: timeout_greeting=7');
      expect(md).toContain('ran 3 rounds');
      expect(md).toContain('| 500 | 450 | 0.9x | 0.9-1.5x |');
      expect(md).toContain('ftpload-muxftpd-0');
      expect(md).not.toContain('ftpload-muxftpd-1');
      expect(formatTerminal(rounds)).toContain('2 ÷ 1 = 0.9x; rounds 0.9-1.5x');
    });
  });
});

describe('CPU of a run', () => {
  it('parses /proc/stat and a process\'s own and reaped ticks', () => {
    const procStat = 'cpu  100 5 50 800 20 3 7 15 0 0\ncpu0 50 2 25 400 10 1 3 7 0 0\ncpu1 50 3 25 400 10 2 4 8 0 0\nintr 1\n';
    // busy = user + nice + system + irq + softirq + steal; total adds idle and iowait
    expect(parseBoxTicks(procStat)).toEqual({ busy: 180, total: 1000 });
    expect(parseBoxTicks('intr 1\n')).toBeNull();
    const stat = '42 (my (odd) name) S 1 42 42 0 -1 4194560 100 0 0 0 300 200 70 30 20 0 5 0';
    expect(parseStatTicks(stat)).toEqual({ own: 500, reaped: 100 });
    expect(parseStatTicks('42 (short) S 1')).toBeNull();
  });
  it('turns two samples into busy % and cores', () => {
    const a = { atMs: 0, boxBusy: 1000, boxTotal: 5000, server: 100, client: 40 };
    const b = { atMs: 2000, boxBusy: 1380, boxTotal: 5400, server: 310, client: 200 };
    // 2 s at 100 ticks/s: 380 of 400 ticks busy; server 210 ticks, client 160
    expect(cpuBetween(a, b, 100)).toEqual({ boxBusyPct: 95, serverCores: 1.05, clientCores: 0.8 });
    expect(cpuBetween(a, a, 100)).toBeNull();
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
  it('drops a sample that ends in the load\'s last half second, when sessions close', () => {
    expect(sampleInTime(58.2, 60)).toBe(true);
    expect(sampleInTime(59.5, 60)).toBe(true);
    expect(sampleInTime(59.8, 60)).toBe(false);
    expect(sampleInTime(61, 60)).toBe(false);
  });
});
