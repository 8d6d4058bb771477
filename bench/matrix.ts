// The comparison matrix: which scenarios bench:compare runs (the performance
// issue's targets), which figure of each it reports, how each load is sized,
// and the markdown/terminal tables: each figure, each peer's ratio to muxftpd,
// and muxftpd's ratio to the best peer of the same run. Pure: unit-tested in
// test/unit/bench-report.test.ts and test/unit/bench-compare.test.ts.

import type { DataMode, LoadOptions } from './client/ftpload.js';
import type { CpuUse } from './client/cpu.js';
import { formatErrors, ratio, type Report } from './client/report.js';

export type Metric = 'opsPerSec' | 'mbPerSec' | 'aliveAtEnd' | 'ops' | 'perSessionKiB';

export interface MatrixScenario {
  name: string;
  title: string;
  metric: Metric;
  unit: string;
  /** 'lower': the best figure is the smallest (memory). Default: higher. */
  better?: 'higher' | 'lower';
  /** Needs the server's writable (upload) profile. */
  writable: boolean;
  /** Sample the server's memory (PSS) while sessions are held. */
  memory: boolean;
  /** Runs on a server started for it alone (its memory baseline is the server at rest). */
  fresh?: boolean;
  /** How muxftpd is started for it; peers keep their configuration. */
  muxftpd?: { threads?: number; pasvPorts?: number };
  /** Only this server runs it (the scaling rows). */
  only?: 'muxftpd';
  /** A figure of another scenario's run shown as a row of its own: nothing runs. */
  from?: string;
  /** Not in the default run: ask for it with --scenarios. */
  optional?: boolean;
  /** Sized by bench:compare's --idle-sessions/--idle-duration or --passive-sessions/--passive-duration. */
  sizedBy?: 'idle' | 'passive';
  load: Pick<LoadOptions, 'scenario' | 'concurrency' | 'uploadSize' | 'filesPerSession' | 'noopInterval' | 'timeout' | 'ramp'> &
    Partial<Pick<LoadOptions, 'file' | 'largeFile' | 'mix' | 'source' | 'pipeline'>>;
}

const base = { uploadSize: 1 << 20, filesPerSession: 0, noopInterval: 10, timeout: 30, ramp: 256 };

/** passive-5000's clients: 20 loopback source addresses (250 sessions each at 5,000). */
export const passiveSources = '127.0.0.2-127.0.0.21';
/** muxftpd's passive range in passive-5000. */
export const passivePorts = 1000;

const smallNew = (n: number): MatrixScenario['load'] => ({ ...base, scenario: 'small', concurrency: n, file: 'small.bin' });

export const matrixScenarios: MatrixScenario[] = [
  { name: 'login-100', title: 'logins/s, 100 sessions at once', metric: 'opsPerSec', unit: 'sessions/s', writable: false, memory: false,
    load: { ...base, scenario: 'login', concurrency: 100 } },
  { name: 'login-1000', title: 'logins/s, 1000 sessions at once', metric: 'opsPerSec', unit: 'sessions/s', writable: false, memory: false,
    load: { ...base, scenario: 'login', concurrency: 1000 } },
  { name: 'small-1', title: 'small files/s (4 KiB), new session each, 1 client', metric: 'opsPerSec', unit: 'files/s', writable: false, memory: false,
    load: smallNew(1) },
  { name: 'small-100', title: 'small files/s (4 KiB), new session each, 100 clients', metric: 'opsPerSec', unit: 'files/s', writable: false, memory: false,
    load: smallNew(100) },
  { name: 'small-1000', title: 'small files/s (4 KiB), new session each, 1000 clients', metric: 'opsPerSec', unit: 'files/s', writable: false, memory: false,
    load: smallNew(1000) },
  { name: 'persistent-100', title: 'small files/s (4 KiB), RETR on 100 open sessions', metric: 'opsPerSec', unit: 'files/s', writable: false, memory: false,
    load: { ...base, scenario: 'persistent', concurrency: 100, file: 'small.bin' } },
  { name: 'persistent-1000', title: 'small files/s (4 KiB), RETR on 1000 open sessions', metric: 'opsPerSec', unit: 'files/s', writable: false, memory: false,
    load: { ...base, scenario: 'persistent', concurrency: 1000, file: 'small.bin' } },
  { name: 'large-1', title: 'large file (page-cached), 1 stream', metric: 'mbPerSec', unit: 'MB/s', writable: false, memory: false,
    load: { ...base, scenario: 'large', concurrency: 1, file: 'large.bin' } },
  { name: 'large-100', title: 'large file (page-cached), 100 streams (aggregate)', metric: 'mbPerSec', unit: 'MB/s', writable: false, memory: false,
    load: { ...base, scenario: 'large', concurrency: 100, file: 'large.bin' } },
  { name: 'noop-1000', title: 'NOOP flood: 1000 sessions, 16 pipelined each (command round trips)', metric: 'opsPerSec', unit: 'commands/s',
    writable: false, memory: false, load: { ...base, scenario: 'noop', concurrency: 1000, pipeline: 16 } },
  { name: 'mixed', title: 'mixed (login 1 : small 4 : persistent 4 : large 1), 100 sessions', metric: 'opsPerSec', unit: 'ops/s',
    writable: false, memory: false, optional: true,
    load: { ...base, scenario: 'mixed', concurrency: 100, file: 'small.bin', largeFile: 'large.bin' } },
  { name: 'passive-5000', title: 'sessions at once, each with a passive data connection open, then RETR (4 KiB) done',
    metric: 'ops', unit: 'sessions', writable: false, memory: false, fresh: true, sizedBy: 'passive',
    muxftpd: { pasvPorts: passivePorts },
    load: { ...base, scenario: 'passive', concurrency: 5000, file: 'small.bin', source: passiveSources } },
  { name: 'idle', title: 'idle logged-in sessions held (NOOP every ~10 s)', metric: 'aliveAtEnd', unit: 'sessions', writable: false,
    memory: true, fresh: true, sizedBy: 'idle', load: { ...base, scenario: 'idle', concurrency: 19000 } },
  { name: 'idle-memory', title: 'memory per idle session (server PSS growth ÷ sessions held)', metric: 'perSessionKiB', unit: 'KiB/session',
    better: 'lower', writable: false, memory: false, from: 'idle', load: { ...base, scenario: 'idle', concurrency: 19000 } },
  { name: 'upload-100', title: 'upload (STOR), 100 streams of 16 MiB files (aggregate)', metric: 'mbPerSec', unit: 'MB/s', writable: true,
    memory: false, load: { ...base, scenario: 'upload', concurrency: 100, uploadSize: 16 << 20 } },
  { name: 'threads-1', title: 'muxftpd --threads 1: small files/s, new session each, 100 clients', metric: 'opsPerSec', unit: 'files/s',
    writable: false, memory: false, only: 'muxftpd', muxftpd: { threads: 1 }, load: smallNew(100) },
  { name: 'threads-2', title: 'muxftpd --threads 2: small files/s, new session each, 100 clients', metric: 'opsPerSec', unit: 'files/s',
    writable: false, memory: false, only: 'muxftpd', muxftpd: { threads: 2 }, load: smallNew(100) },
];

/** Names --scenarios takes besides the scenarios' own: a group of rows. */
export const scenarioGroups: Record<string, string[]> = { scaling: ['threads-1', 'threads-2'] };

/** The names --scenarios accepts (rows that run, and the groups). */
export function selectableScenarios(): string[] {
  return [...matrixScenarios.filter((s) => !s.from).map((s) => s.name), ...Object.keys(scenarioGroups)];
}

/**
 * The rows of a run: the named scenarios (groups expanded), or every one not
 * optional; each row derived from a chosen scenario's run comes along.
 */
export function selectScenarios(names?: readonly string[]): MatrixScenario[] {
  const want = new Set<string>();
  if (names === undefined) {
    for (const s of matrixScenarios) if (!s.from && !s.optional) want.add(s.name);
  } else {
    for (const n of names) for (const m of scenarioGroups[n] ?? [n]) want.add(m);
  }
  return matrixScenarios.filter((s) => (s.from ? want.has(s.from) : want.has(s.name)));
}

export type CompareSettings = {
  duration: number;
  idleSessions: number;
  /**
   * Idle sessions asked of the peers: a process per session at 19,000 would
   * need up to 38,000 processes (pid_max is often 32,768) and gigabytes.
   */
  peerIdleSessions: number;
  idleDuration: number;
  passiveSessions: number;
  passiveDuration: number;
  largeMiB: number;
  clientThreads: number;
  mode: DataMode;
  root: string;
};

/** One ftpload process holds at most this many sessions of an idle or passive run (20,000-fd limit). */
export const sessionsPerProcess = 9000;

/** Scenarios run in this order: read-only, passive, idle, upload, then muxftpd's scaling rows. */
function phase(sc: MatrixScenario): number {
  if (sc.only) return 4;
  if (sc.writable) return 3;
  if (sc.memory) return 2;
  if (sc.fresh) return 1;
  return 0;
}

export interface PlannedRun<S extends string> {
  sc: MatrixScenario;
  /** 0-based; `rounds` in all for this scenario (1 for passive and idle). */
  round: number;
  rounds: number;
  /** The servers that run it, in this round's order. */
  servers: S[];
}

/**
 * The reference server (native/bench/bare.cc): one thread, fixed replies, no
 * checks. Not a peer: never the best peer. It serves one small file, so it
 * runs only these loads.
 */
export const reference = 'bare';
const referenceLoads: ReadonlySet<string> = new Set(['login', 'small', 'persistent', 'noop']);

/** Whether `server` runs scenario `sc` at all. */
export function runs(server: string, sc: MatrixScenario): boolean {
  if (sc.only) return sc.only === server;
  if (server === reference) return referenceLoads.has(sc.load.scenario);
  return true;
}

/**
 * The order of a whole run. Scenario by scenario, every server in turn: the
 * figures of one row are measured within a minute or two of each other, not
 * half an hour apart, so a drift in the machine's speed (this VM's drifts by
 * up to a third within minutes) skews their ratios less. A row's rounds follow
 * each other for the same reason, and every other round reverses the servers'
 * order, spreading what a server inherits from the one before it (page cache,
 * TIME_WAIT sockets) over all of them. muxftpd's scaling rows (--threads 1
 * and 2) are one group whose rounds take turns, so each round's 2 ÷ 1 compares
 * runs made one after the other. Passive and idle runs are sized by the
 * sessions they hold and run once.
 */
export function planRuns<S extends string>(scenarios: MatrixScenario[], servers: readonly S[], rounds: number): PlannedRun<S>[] {
  const order = scenarios.filter((sc) => !sc.from).sort((a, b) => phase(a) - phase(b));
  const groups = new Map<string, MatrixScenario[]>();
  for (const sc of order) {
    const key = sc.only ? `only ${sc.only}` : sc.name;
    groups.set(key, [...(groups.get(key) ?? []), sc]);
  }
  return [...groups.values()].flatMap((group) => {
    const n = group.some((sc) => sc.sizedBy) ? 1 : rounds;
    return Array.from({ length: n }, (_, round) => {
      const flip = <T>(xs: readonly T[]): T[] => (round % 2 === 0 ? [...xs] : [...xs].reverse());
      return flip(group).map((sc) => ({
        sc, round, rounds: n, servers: flip(servers).filter((s) => runs(s, sc)),
      }));
    }).flat();
  });
}

/** The load of one scenario against one server, as bench:compare runs it. */
export function planLoad(sc: MatrixScenario, st: CompareSettings, server: string, port: number): LoadOptions {
  const idle = server === 'muxftpd' ? st.idleSessions : st.peerIdleSessions;
  const sessions = sc.sizedBy === 'idle' ? idle : sc.sizedBy === 'passive' ? st.passiveSessions : sc.load.concurrency;
  const duration = sc.sizedBy === 'idle' ? st.idleDuration : sc.sizedBy === 'passive' ? st.passiveDuration : st.duration;
  // An idle session holds one fd, a passive one two: 9,000 sessions a process
  // stays under a 20,000-fd limit either way (19,000 idle sessions: 3 processes).
  const processes = sc.sizedBy ? Math.max(1, Math.ceil(sessions / sessionsPerProcess)) : 1;
  const file = sc.load.file;
  const large = sc.load.largeFile;
  return {
    ...sc.load,
    host: '127.0.0.1',
    port,
    concurrency: sessions,
    duration,
    threads: st.clientThreads,
    processes,
    user: 'anonymous',
    pass: 'bench@',
    mode: st.mode,
    file,
    fileLocal: file ? `${st.root}/${file}` : undefined,
    largeFile: large,
    largeLocal: large ? `${st.root}/${large}` : undefined,
    checksum: false,
    uploadPrefix: `upload/${server}`,
    progressMs: 1000,
    tag: `${server}/${sc.name}`,
  };
}

export interface Cell {
  server: string;
  scenario: string;
  report: Report | null;
  failure: string | null;
  argv: string[][];
  /** The server's command line for this run. */
  serverArgv?: string[];
  /** The server's passive port range for this run, "min-max". */
  pasvPorts?: string;
  /** Which round of the run measured it (0-based, see --rounds); absent = 0. */
  round?: number;
  /** CPU used while the load ran (absent in runs made before it was measured). */
  cpu?: CpuUse;
}

export interface CompareResult {
  date: string;
  command: string;
  machine: Record<string, string>;
  settings: Record<string, number | string>;
  servers: Array<{ name: string; version: string; installed: boolean; note: string }>;
  scenarios: MatrixScenario[];
  cells: Cell[];
}

/** The figure a cell stands for, or null when the run produced none. */
export function cellValue(cell: Cell | undefined, metric: Metric): number | null {
  const r = cell?.report;
  if (!r) return null;
  // A rate needs something done: an operation, or for MB/s bytes moved
  // (100 streams of a large file may finish none within a short window).
  if (metric === 'opsPerSec' && r.ops === 0) return null;
  if (metric === 'mbPerSec' && r.bytes === 0) return null;
  if (metric === 'perSessionKiB') return r.memory?.perSessionKiB ?? null;
  return r[metric];
}

export function baseServer(result: CompareResult): string | undefined {
  const installed = result.servers.filter((s) => s.installed).map((s) => s.name);
  return installed.includes('muxftpd') ? 'muxftpd' : installed[0];
}

/** Higher is better after this: null (no figure) is the worst. */
function score(v: number | null, better: MatrixScenario['better']): number {
  if (v === null) return -Infinity;
  return better === 'lower' ? -v : v;
}

/** The scenario whose runs a row reads: its own, or for a derived row the one it comes from. */
function ranAs(result: CompareResult, scenario: string): string {
  return result.scenarios.find((s) => s.name === scenario)?.from ?? scenario;
}

/**
 * The cell a row reads (see ranAs). A scenario measured in several rounds
 * reads the round with the median figure (of two, the worse), so one noisy
 * run moves no row.
 */
export function findCell(result: CompareResult, server: string, scenario: string): Cell | undefined {
  const name = ranAs(result, scenario);
  const runs = result.cells.filter((c) => c.server === server && c.scenario === name);
  if (runs.length <= 1) return runs[0];
  const ran = result.scenarios.find((s) => s.name === name);
  if (!ran) return runs[0];
  const ranked = runs
    .map((c) => ({ c, s: score(cellValue(c, ran.metric), ran.better) }))
    .sort((a, b) => a.s - b.s);
  return ranked[Math.floor((ranked.length - 1) / 2)]?.c;
}

/** The rounds a scenario's cells were measured in, ascending. */
export function roundsOf(result: CompareResult, scenario: string): number[] {
  const name = ranAs(result, scenario);
  return [...new Set(result.cells.filter((c) => c.scenario === name).map((c) => c.round ?? 0))].sort((a, b) => a - b);
}

/** The run as if only one round of it had been measured. */
export function inRound(result: CompareResult, round: number): CompareResult {
  return { ...result, cells: result.cells.filter((c) => (c.round ?? 0) === round) };
}

/** The smallest and largest of a per-round figure, over the rounds that gave one; null with fewer than two. */
function spread(rounds: number[], of: (round: number) => number | null): { min: number; max: number } | null {
  const vals = rounds.map(of).filter((v): v is number => v !== null);
  return vals.length < 2 ? null : { min: Math.min(...vals), max: Math.max(...vals) };
}

/** Ratio of each server's figure to the base server's (muxftpd) for one scenario. */
export function ratios(result: CompareResult, scenario: MatrixScenario): Record<string, number | null> {
  const b = baseServer(result);
  const bv = b ? cellValue(findCell(result, b, scenario.name), scenario.metric) : null;
  const out: Record<string, number | null> = {};
  for (const s of result.servers) {
    out[s.name] = ratio(cellValue(findCell(result, s.name, scenario.name), scenario.metric), bv);
  }
  return out;
}

/** The best figure among the peers (every installed server but the base and the reference) in this run. */
export function bestPeer(result: CompareResult, sc: MatrixScenario): { server: string; value: number } | null {
  const b = baseServer(result);
  let best: { server: string; value: number } | null = null;
  for (const s of result.servers) {
    if (!s.installed || s.name === b || s.name === reference) continue;
    const v = cellValue(findCell(result, s.name, sc.name), sc.metric);
    if (v === null) continue;
    if (!best || (sc.better === 'lower' ? v < best.value : v > best.value)) best = { server: s.name, value: v };
  }
  return best;
}

/** The base server's (muxftpd's) figure ÷ the best peer's; null when either is missing. */
export function vsBestPeer(result: CompareResult, sc: MatrixScenario): number | null {
  const b = baseServer(result);
  const best = bestPeer(result, sc);
  if (!b || !best) return null;
  return ratio(cellValue(findCell(result, b, sc.name), sc.metric), best.value);
}

/** muxftpd ÷ best peer in each round on its own: how far one run could have moved the row. */
export function vsBestSpread(result: CompareResult, sc: MatrixScenario): { min: number; max: number } | null {
  return spread(roundsOf(result, sc.name), (r) => vsBestPeer(inRound(result, r), sc));
}

function formatSpread(s: { min: number; max: number } | null): string {
  return s ? `; rounds ${s.min}-${s.max}x` : '';
}

export function formatVsBest(result: CompareResult, sc: MatrixScenario): string {
  const best = bestPeer(result, sc);
  if (!best) return '—';
  const r = vsBestPeer(result, sc);
  return r === null ? `— (best peer ${best.server}: ${fmt(best.value)})` : `${r}x (${best.server}${formatSpread(vsBestSpread(result, sc))})`;
}

function fmt(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function portCount(range: string): number {
  const [a, b] = range.split('-').map(Number);
  return a !== undefined && b !== undefined && b >= a ? b - a + 1 : 0;
}

/** "1234 (0.52x)", with a dagger when the run had errors, or why there is no figure. */
export function formatCell(result: CompareResult, sc: MatrixScenario, server: string): string {
  const cell = findCell(result, server, sc.name);
  if (!cell) return '—';
  if (!cell.report) return `failed${cell.failure ? `: ${cell.failure.split('\n')[0]?.slice(0, 60)}` : ''}`;
  const v = cellValue(cell, sc.metric);
  const r = cell.report;
  if (v === null) {
    if (sc.metric === 'perSessionKiB') return r.aliveAtEnd === 0 ? 'n/a (no session held)' : 'n/a (no memory sample)';
    const top = Object.entries(r.errors).sort((a, b) => b[1] - a[1])[0];
    return `n/a${top ? ` (${top[0]})` : ''}`;
  }
  const rt = ratios(result, sc)[server];
  let text = fmt(v);
  if (sc.metric === 'aliveAtEnd') {
    text = `${v} of ${r.concurrency} held`;
    // Sessions still between connect and login when the hold ended: a slow ramp, not a drop.
    if (r.abortedAtEnd > 0) text += ` (${r.abortedAtEnd} still logging in)`;
    if (r.memory?.perSessionKiB != null) text += `, ${fmt(r.memory.perSessionKiB)} KiB/session`;
  }
  if (sc.metric === 'ops') {
    text = `${v} of ${r.concurrency}, ${r.maxDataHeld} held at once`;
    if (r.abortedAtEnd > 0) text += ` (${r.abortedAtEnd} unfinished at the end)`;
    if (cell.pasvPorts) text += `, ports ${cell.pasvPorts}`;
  }
  if (sc.metric === 'perSessionKiB' && r.memory) text += ` (${r.memory.sessions} sessions)`;
  if (rt !== null && rt !== undefined && server !== baseServer(result)) text += ` (${rt}x)`;
  if (r.errorTotal > 0) text += ' †';
  return text;
}

/** Rows of the main table: everything but the muxftpd-only scaling rows. */
export function tableScenarios(result: CompareResult): MatrixScenario[] {
  return result.scenarios.filter((s) => !s.only);
}

/** muxftpd --threads 2 ÷ --threads 1 on the same load (medians), and its range over the rounds; or null. */
export function scalingRatio(result: CompareResult): {
  t1: number | null; t2: number | null; ratio: number | null; spread: { min: number; max: number } | null;
} | null {
  const t1s = result.scenarios.find((s) => s.name === 'threads-1');
  const t2s = result.scenarios.find((s) => s.name === 'threads-2');
  if (!t1s && !t2s) return null;
  const of = (res: CompareResult): { t1: number | null; t2: number | null } => ({
    t1: t1s ? cellValue(findCell(res, 'muxftpd', 'threads-1'), t1s.metric) : null,
    t2: t2s ? cellValue(findCell(res, 'muxftpd', 'threads-2'), t2s.metric) : null,
  });
  const { t1, t2 } = of(result);
  const t1Rounds = roundsOf(result, 'threads-1');
  const rounds = roundsOf(result, 'threads-2').filter((r) => t1Rounds.includes(r));
  return {
    t1, t2, ratio: ratio(t2, t1),
    spread: spread(rounds, (r) => {
      const one = of(inRound(result, r));
      return ratio(one.t2, one.t1);
    }),
  };
}

function unitOf(sc: MatrixScenario): string {
  return sc.better === 'lower' ? `${sc.unit} (lower is better)` : sc.unit;
}

export function formatMarkdown(result: CompareResult): string {
  const servers = result.servers.filter((s) => s.installed).map((s) => s.name);
  const b = baseServer(result);
  const mode = String(result.settings['mode'] ?? 'epsv').toUpperCase();
  const lines: string[] = [];
  lines.push(`# muxftpd vs peers — ${result.date.slice(0, 10)}`, '');
  const rounds = Number(result.settings['rounds'] ?? 1);
  lines.push(`Each figure is the server's rate over one run of the scenario${rounds > 1
    ? ` (each row but passive and idle ran ${rounds} rounds, servers in turn, the order reversed every other round: ` +
      'the figure and its latency below are the median round\'s; the errors list every round)'
    : ''}; in parentheses, its ratio to ${b ?? 'the first server'} ` +
    '(above 1 = more than it). ' +
    `Last column: ${b ?? 'the first server'}'s figure ÷ the best peer's in this run, and which peer that is ` +
    `${rounds > 1 ? '(then "rounds": the lowest and highest of that ratio taken round by round) ' : ''}` +
    '(for a row marked "lower is better", below 1 is better). ' +
    '† = the run had errors (listed below). n/a = no operation succeeded (the error named). ' +
    `Data connections: ${mode}.`, '');
  lines.push(`| scenario | unit | ${servers.join(' | ')} | ${b ?? 'base'} ÷ best peer |`);
  lines.push(`|---|---|${servers.map(() => '---:').join('|')}|---:|`);
  for (const sc of tableScenarios(result)) {
    lines.push(`| ${sc.title} | ${unitOf(sc)} | ${servers.map((s) => formatCell(result, sc, s)).join(' | ')} | ${formatVsBest(result, sc)} |`);
  }
  const notes: string[] = [];
  const passive = result.scenarios.find((s) => s.sizedBy === 'passive');
  if (passive) {
    const ranges = servers
      .map((s) => ({ s, c: findCell(result, s, passive.name) }))
      .filter((x) => x.c?.pasvPorts)
      .map((x) => `${x.s} ${x.c?.pasvPorts} (${portCount(x.c?.pasvPorts ?? '')} ports)`);
    notes.push(`- ${passive.name}: ${result.settings['passiveSessions'] ?? passive.load.concurrency} sessions from ${passive.load.source ?? '127.0.0.1'}; ` +
      'each holds its data connection until all do, then RETRs; "held at once" = most data connections open together. ' +
      `muxftpd runs with a ${passivePorts}-port passive range; peers keep their configured ranges` +
      `${ranges.length ? ` (this run: ${ranges.join(', ')})` : ''}.`);
  }
  if (result.scenarios.some((s) => s.sizedBy === 'idle')) {
    notes.push(`- idle: ${result.settings['idleSessions'] ?? ''} sessions asked of muxftpd, ${result.settings['peerIdleSessions'] ?? ''} of each peer ` +
      '(a process per session at 19,000 would need up to 38,000 processes); a server that holds fewer shows how many it held ' +
      'and the errors say why (its result, not a fault of the bench). Memory: PSS of the server\'s process tree while the ' +
      'most sessions were held, minus at rest, ÷ the sessions logged in at that moment.');
  }
  if (servers.includes(reference)) {
    notes.push(`- ${reference}: the reference server (native/bench/bare.cc: one epoll thread, fixed replies, no checks), ` +
      'not a peer and never the best one; it runs the login, small-file, persistent and NOOP rows only. Not a ceiling, but ' +
      'where its CPU row shows ftpload\'s one thread full, the load generator sets the figure, for any server.');
  }
  if (notes.length) lines.push('', ...notes);
  const scaling = scalingRatio(result);
  if (scaling) {
    const t1s = result.scenarios.find((s) => s.name === 'threads-1');
    const t2s = result.scenarios.find((s) => s.name === 'threads-2');
    const show = (sc: MatrixScenario | undefined): string => (sc ? formatCell(result, sc, 'muxftpd') : '—');
    lines.push('', '## Scaling (muxftpd, small files/s, new session each, 100 clients)', '');
    lines.push('| --threads 1 | --threads 2 | 2 ÷ 1 | 2 ÷ 1, round by round |');
    lines.push('|---:|---:|---:|---:|');
    lines.push(`| ${show(t1s)} | ${show(t2s)} | ${scaling.ratio === null ? '—' : `${scaling.ratio}x`} | ` +
      `${scaling.spread ? `${scaling.spread.min}-${scaling.spread.max}x` : '—'} |`);
  }
  lines.push(...formatCpu(result, servers));
  lines.push('', '![chart](chart.svg)', '');
  lines.push('## Latency (ms, p50 / p99 / max)', '');
  lines.push(`| scenario | ${servers.join(' | ')} |`);
  lines.push(`|---|${servers.map(() => '---').join('|')}|`);
  for (const sc of result.scenarios.filter((s) => !s.from)) {
    const row = servers.map((s) => {
      const r = findCell(result, s, sc.name)?.report;
      return r && r.ops > 0 ? `${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.max}` : '—';
    });
    lines.push(`| ${sc.name} | ${row.join(' | ')} |`);
  }
  lines.push('', '## Errors', '');
  let any = false;
  const where = (c: Cell): string => `${c.server} / ${c.scenario}${rounds > 1 && roundsOf(result, c.scenario).length > 1 ? ` (round ${(c.round ?? 0) + 1})` : ''}`;
  for (const c of result.cells) {
    if (c.failure) {
      lines.push(`- ${where(c)}: ${c.failure.split('\n')[0]}`);
      any = true;
    } else if (c.report && c.report.errorTotal > 0) {
      lines.push(`- ${where(c)}: ${c.report.errorTotal} of ${c.report.ops + c.report.errorTotal}: ${formatErrors(c.report.errors)}`);
      any = true;
    }
  }
  if (!any) lines.push('None.');
  // Where the figure counts sessions, say where the unfinished ones were when the run ended.
  const held = new Set(result.scenarios.filter((s) => s.metric === 'ops' || s.metric === 'aliveAtEnd').map((s) => s.name));
  const cut = result.cells.filter((c) => held.has(c.scenario) && c.report && c.report.abortedAtEnd > 0);
  if (cut.length) {
    lines.push('', 'Sessions unfinished when the run ended (by the state they were in):', '');
    for (const c of cut) {
      const r = c.report as Report;
      lines.push(`- ${where(c)}: ${r.abortedAtEnd}: ${formatErrors(r.abortedByState)}`);
    }
  }
  lines.push('', '## Servers', '');
  for (const s of result.servers) {
    lines.push(`- ${s.name}${s.version ? ` ${s.version}` : ''}${s.installed ? '' : ` — not measured: ${s.note}`}`);
  }
  lines.push('', '## Machine', '');
  for (const [k, v] of Object.entries(result.machine)) lines.push(`- ${k}: ${v}`);
  lines.push('', '## Settings', '');
  for (const [k, v] of Object.entries(result.settings)) lines.push(`- ${k}: ${v}`);
  lines.push('', '## Commands', '', 'Whole run:', '', '```', result.command, '```', '', 'Each server start:', '', '```');
  const seen = new Set<string>();
  for (const c of result.cells) {
    if (!c.serverArgv?.length) continue;
    const line = c.serverArgv.join(' ');
    if (seen.has(`${c.server}\n${line}`)) continue;
    seen.add(`${c.server}\n${line}`);
    const ran = new Set(result.cells.filter((d) => d.server === c.server && d.serverArgv?.join(' ') === line).map((d) => d.scenario));
    lines.push(`# ${c.server} (${[...ran].join(', ')})`, line);
  }
  lines.push('```', '', `Each load (ftpload argv${rounds > 1 ? '; every round ran the same' : ''}):`, '', '```');
  // Each server's load once per scenario: the first round that ran it (one that did not start has none).
  const shown = new Set<string>();
  for (const c of result.cells) {
    const key = `${c.server}\n${c.scenario}`;
    if (c.argv.length === 0 || shown.has(key)) continue;
    shown.add(key);
    for (const a of c.argv) lines.push(`# ${c.server} / ${c.scenario}`, a.join(' '));
  }
  lines.push('```', '');
  return lines.join('\n');
}

/**
 * The CPU table: for each row's median round, how busy the whole box was and
 * what the server and the load generator used. Without it a result cannot say
 * whether the server or the machine set the figure.
 */
function formatCpu(result: CompareResult, servers: readonly string[]): string[] {
  const rows = result.scenarios.filter((s) => !s.from);
  if (!rows.some((sc) => servers.some((s) => findCell(result, s, sc.name)?.cpu))) return [];
  const cpus = result.machine['nproc'] ? ` of ${result.machine['nproc']} CPUs` : '';
  const lines = ['', `## CPU while each load ran (median round: box busy %${cpus} · server cores · ftpload cores)`, '',
    'Box = every CPU of the machine, client and kernel threads included; server = its whole process tree; ' +
    'ftpload = the load generator. A box near 100% busy means the machine, shared by server and client, ' +
    'set the figure rather than the server alone.', ''];
  lines.push(`| scenario | ${servers.join(' | ')} |`);
  lines.push(`|---|${servers.map(() => '---').join('|')}|`);
  for (const sc of rows) {
    const row = servers.map((s) => {
      const c = findCell(result, s, sc.name)?.cpu;
      return c ? `${c.boxBusyPct}% · ${c.serverCores} · ${c.clientCores}` : '—';
    });
    lines.push(`| ${sc.name} | ${row.join(' | ')} |`);
  }
  return lines;
}

export function formatTerminal(result: CompareResult): string {
  const servers = result.servers.filter((s) => s.installed).map((s) => s.name);
  const b = baseServer(result) ?? 'base';
  const rows = [['scenario', 'unit', ...servers, `${b} ÷ best peer`]];
  for (const sc of tableScenarios(result)) {
    rows.push([sc.name, unitOf(sc), ...servers.map((s) => formatCell(result, sc, s)), formatVsBest(result, sc)]);
  }
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const out = rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  const scaling = scalingRatio(result);
  if (scaling) {
    const f = (v: number | null): string => (v === null ? 'n/a' : fmt(v));
    out.push('', `scaling (muxftpd small-100): --threads 1 ${f(scaling.t1)}, --threads 2 ${f(scaling.t2)} files/s, ` +
      `2 ÷ 1 = ${scaling.ratio === null ? 'n/a' : `${scaling.ratio}x`}${formatSpread(scaling.spread)}`);
  }
  return out.join('\n');
}
