// The comparison matrix: which scenarios bench:compare runs, which figure of
// each it reports, and the markdown/terminal tables with each server's ratio
// to muxftpd. Pure: unit-tested in test/unit/bench-matrix.test.ts.

import type { LoadOptions } from './client/ftpload.js';
import { formatErrors, ratio, type Report } from './client/report.js';

export type Metric = 'opsPerSec' | 'mbPerSec' | 'aliveAtEnd';

export interface MatrixScenario {
  name: string;
  title: string;
  metric: Metric;
  unit: string;
  /** Needs the server's writable (upload) profile. */
  writable: boolean;
  /** Sample the server's memory (PSS) while sessions are held. */
  memory: boolean;
  load: Pick<LoadOptions, 'scenario' | 'concurrency' | 'uploadSize' | 'filesPerSession' | 'noopInterval' | 'timeout' | 'ramp'> &
    Partial<Pick<LoadOptions, 'file' | 'largeFile' | 'mix'>>;
}

const base = { uploadSize: 1 << 20, filesPerSession: 0, noopInterval: 10, timeout: 30, ramp: 256 };

export const matrixScenarios: MatrixScenario[] = [
  { name: 'login', title: 'logins/s (50 sessions)', metric: 'opsPerSec', unit: 'sessions/s', writable: false, memory: false,
    load: { ...base, scenario: 'login', concurrency: 50 } },
  { name: 'small-1', title: 'small files/s, new session each (1 client)', metric: 'opsPerSec', unit: 'files/s', writable: false, memory: false,
    load: { ...base, scenario: 'small', concurrency: 1, file: 'small.bin' } },
  { name: 'small-100', title: 'small files/s, new session each (100 clients)', metric: 'opsPerSec', unit: 'files/s', writable: false, memory: false,
    load: { ...base, scenario: 'small', concurrency: 100, file: 'small.bin' } },
  { name: 'small-1000', title: 'small files/s, new session each (1000 clients)', metric: 'opsPerSec', unit: 'files/s', writable: false, memory: false,
    load: { ...base, scenario: 'small', concurrency: 1000, file: 'small.bin' } },
  { name: 'persistent', title: 'small files/s, persistent sessions (50)', metric: 'opsPerSec', unit: 'files/s', writable: false, memory: false,
    load: { ...base, scenario: 'persistent', concurrency: 50, file: 'small.bin' } },
  { name: 'large-1', title: 'large file, 1 stream', metric: 'mbPerSec', unit: 'MB/s', writable: false, memory: false,
    load: { ...base, scenario: 'large', concurrency: 1, file: 'large.bin' } },
  { name: 'large-100', title: 'large file, 100 streams (aggregate)', metric: 'mbPerSec', unit: 'MB/s', writable: false, memory: false,
    load: { ...base, scenario: 'large', concurrency: 100, file: 'large.bin' } },
  { name: 'mixed', title: 'mixed (login 1 : small 4 : persistent 4 : large 1), 100 sessions', metric: 'opsPerSec', unit: 'ops/s', writable: false, memory: false,
    load: { ...base, scenario: 'mixed', concurrency: 100, file: 'small.bin', largeFile: 'large.bin' } },
  { name: 'idle', title: 'idle sessions held (NOOP every ~10 s)', metric: 'aliveAtEnd', unit: 'sessions', writable: false, memory: true,
    load: { ...base, scenario: 'idle', concurrency: 10000, ramp: 256 } },
  { name: 'upload', title: 'upload, 10 streams of 16 MiB files (aggregate)', metric: 'mbPerSec', unit: 'MB/s', writable: true, memory: false,
    load: { ...base, scenario: 'upload', concurrency: 10, uploadSize: 16 << 20 } },
];

export interface Cell {
  server: string;
  scenario: string;
  report: Report | null;
  failure: string | null;
  argv: string[][];
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

/** The figure a cell stands for, or null when the run produced none (no operation at all). */
export function cellValue(cell: Cell | undefined, metric: Metric): number | null {
  const r = cell?.report;
  if (!r) return null;
  // A rate needs something done: an operation, or for MB/s bytes moved
  // (100 streams of a large file may finish none within a short window).
  if (metric === 'opsPerSec' && r.ops === 0) return null;
  if (metric === 'mbPerSec' && r.bytes === 0) return null;
  return r[metric];
}

export function baseServer(result: CompareResult): string | undefined {
  const installed = result.servers.filter((s) => s.installed).map((s) => s.name);
  return installed.includes('muxftpd') ? 'muxftpd' : installed[0];
}

export function findCell(result: CompareResult, server: string, scenario: string): Cell | undefined {
  return result.cells.find((c) => c.server === server && c.scenario === scenario);
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

function fmt(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

/** "1234 (0.52x)", with a dagger when the run had errors, or why there is no figure. */
export function formatCell(result: CompareResult, sc: MatrixScenario, server: string): string {
  const cell = findCell(result, server, sc.name);
  if (!cell) return '—';
  if (!cell.report) return `failed${cell.failure ? `: ${cell.failure.split('\n')[0]?.slice(0, 60)}` : ''}`;
  const v = cellValue(cell, sc.metric);
  const r = cell.report;
  if (v === null) {
    const top = Object.entries(r.errors).sort((a, b) => b[1] - a[1])[0];
    return `n/a${top ? ` (${top[0]})` : ''}`;
  }
  const rt = ratios(result, sc)[server];
  let text = fmt(v);
  if (sc.metric === 'aliveAtEnd') {
    text += ` of ${r.concurrency}`;
    // Sessions still between connect and login when the hold ended: a slow ramp, not a drop.
    if (r.abortedAtEnd > 0) text += ` (${r.abortedAtEnd} still logging in)`;
    if (r.memory?.perSessionKiB != null) text += `, ${fmt(r.memory.perSessionKiB)} KiB/session`;
  }
  if (rt !== null && rt !== undefined && server !== baseServer(result)) text += ` (${rt}x)`;
  if (r.errorTotal > 0) text += ' †';
  return text;
}

export function formatMarkdown(result: CompareResult): string {
  const servers = result.servers.filter((s) => s.installed).map((s) => s.name);
  const b = baseServer(result);
  const lines: string[] = [];
  lines.push(`# muxftpd vs peers — ${result.date.slice(0, 10)}`, '');
  lines.push(`Each figure is the server's rate over the whole run; in parentheses, its ratio to ${b ?? 'the first server'} ` +
    '(above 1 = more than it). † = the run had errors (listed below). n/a = no operation succeeded (the error named).', '');
  lines.push(`| scenario | unit | ${servers.join(' | ')} |`);
  lines.push(`|---|---|${servers.map(() => '---:').join('|')}|`);
  for (const sc of result.scenarios) {
    lines.push(`| ${sc.title} | ${sc.unit} | ${servers.map((s) => formatCell(result, sc, s)).join(' | ')} |`);
  }
  lines.push('', '![chart](chart.svg)', '');
  lines.push('## Latency (ms, p50 / p99 / max)', '');
  lines.push(`| scenario | ${servers.join(' | ')} |`);
  lines.push(`|---|${servers.map(() => '---').join('|')}|`);
  for (const sc of result.scenarios) {
    const row = servers.map((s) => {
      const r = findCell(result, s, sc.name)?.report;
      return r && r.ops > 0 ? `${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.max}` : '—';
    });
    lines.push(`| ${sc.name} | ${row.join(' | ')} |`);
  }
  lines.push('', '## Errors', '');
  let any = false;
  for (const c of result.cells) {
    if (c.failure) {
      lines.push(`- ${c.server} / ${c.scenario}: ${c.failure.split('\n')[0]}`);
      any = true;
    } else if (c.report && c.report.errorTotal > 0) {
      lines.push(`- ${c.server} / ${c.scenario}: ${c.report.errorTotal} of ${c.report.ops + c.report.errorTotal}: ${formatErrors(c.report.errors)}`);
      any = true;
    }
  }
  if (!any) lines.push('None.');
  lines.push('', '## Servers', '');
  for (const s of result.servers) {
    lines.push(`- ${s.name}${s.version ? ` ${s.version}` : ''}${s.installed ? '' : ` — not measured: ${s.note}`}`);
  }
  lines.push('', '## Machine', '');
  for (const [k, v] of Object.entries(result.machine)) lines.push(`- ${k}: ${v}`);
  lines.push('', '## Settings', '');
  for (const [k, v] of Object.entries(result.settings)) lines.push(`- ${k}: ${v}`);
  lines.push('', '## Commands', '', 'Whole run:', '', '```', result.command, '```', '', 'Each load (ftpload argv):', '', '```');
  for (const c of result.cells) for (const a of c.argv) lines.push(`# ${c.server} / ${c.scenario}`, a.join(' '));
  lines.push('```', '');
  return lines.join('\n');
}

export function formatTerminal(result: CompareResult): string {
  const servers = result.servers.filter((s) => s.installed).map((s) => s.name);
  const rows = [['scenario', 'unit', ...servers]];
  for (const sc of result.scenarios) rows.push([sc.name, sc.unit, ...servers.map((s) => formatCell(result, sc, s))]);
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ')).join('\n');
}
