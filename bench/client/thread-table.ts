// CPU per operation by thread class as text: muxftpd-bench's report lines and
// results.md's tables (a table per scenario, then the projected ceiling per
// host size). Formatting only; the numbers come from thread-cost.ts.

import { ceiling, projectedCores, type ThreadCost } from './thread-cost.js';
import type { ThreadClass } from './threads.js';

const labels: Record<ThreadClass, string> = {
  js: 'JS main thread',
  worker: 'native workers',
  acceptor: 'acceptor',
  files: 'file threads (muxftpd-files, -fileops)',
  libuv: 'libuv pool',
  rest: 'the rest (V8 helpers, password threads, unnamed pools, exited threads)',
};

function fmt(v: number): string {
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** Rows of (what, µs per op as text, µs per op or null): classes, the JS thread per process, each worker, the total. */
export function costRows(c: ThreadCost): Array<[string, string, number | null]> {
  const row = (what: string, v: number): [string, string, number] => [what, fmt(v), v];
  const rows: Array<[string, string, number | null]> = [];
  rows.push(row(labels.js + (c.processes > 1 ? ` (sum of ${c.processes} processes)` : ''), c.perOp.js));
  if (c.processes > 1) {
    rows.push(row('JS main thread, busiest process', c.jsMaxPerOp));
    rows.push(['JS main thread, each process', c.jsPerProcess.map(fmt).join(' · '), null]);
  }
  rows.push(row(labels.worker, c.perOp.worker));
  if (c.workers.length > 1) for (const w of c.workers) rows.push(row(`  ${w.name}`, w.perOp));
  for (const k of ['acceptor', 'files', 'libuv', 'rest'] as const) rows.push(row(labels[k], c.perOp[k]));
  rows.push(row('whole server (all processes, all threads)', c.totalPerOp));
  return rows;
}

/** muxftpd-bench's lines (--pid). */
export function formatThreadCost(c: ThreadCost): string {
  const lines = [`server CPU per op (µs, ${c.processes} process${c.processes > 1 ? 'es' : ''}, ${c.seconds} s, ${c.ops} ops):`];
  const rows = costRows(c);
  const width = Math.max(...rows.map(([w]) => w.length));
  for (const [what, text] of rows) lines.push(`  ${what.padEnd(width)}  ${text}`);
  lines.push(`  JS ÷ workers: ${c.jsPerWorker ?? 'n/a'}`);
  return lines.join('\n');
}

/** results.md: one scenario's table (`title` heads it). */
export function markdownThreadCost(title: string, c: ThreadCost, rate: number | null): string[] {
  const lines = ['', `### ${title}`, '',
    `${c.ops} ops in ${c.seconds} s${rate === null ? '' : ` (${fmt(rate)}/s)`}, ${c.processes} server process${c.processes > 1 ? 'es' : ''}; ` +
    `JS main thread ÷ native workers = ${c.jsPerWorker ?? 'n/a'}.`, '',
    '| thread | µs per op | cores at this rate |', '|---|---:|---:|'];
  const perSec = rate ?? 0;
  for (const [what, text, v] of costRows(c)) {
    const cores = v === null || perSec <= 0 ? '' : ((v * perSec) / 1e6).toFixed(2);
    lines.push(`| ${what} | ${text} | ${cores} |`);
  }
  lines.push('', `| host cores | ceiling, 1 server process | ceiling, one per core |`, '|---:|---:|---:|');
  for (const cores of projectedCores) {
    const one = ceiling(c, cores, 1);
    const all = ceiling(c, cores, cores);
    const show = (x: typeof one): string => (x ? `${fmt(x.opsPerSec)}/s (${x.limitedBy})` : '—');
    lines.push(`| ${cores} | ${show(one)} | ${show(all)} |`);
  }
  return lines;
}

/** How the ceiling is computed (said once in results.md, above the tables). */
export const ceilingNote =
  'CPU from /proc/PID/task/TID/stat (utime+stime) of the server\'s pid and every descendant process, sampled ' +
  'at the start and end of the load; per operation = CPU ÷ the load\'s operations. "The rest" is each process\'s ' +
  'own time less its named threads\'. Ceiling on a host of C cores with N server processes, the load generator ' +
  'elsewhere: the lowest of C × 10^6 ÷ (whole server µs/op) (everything divides over the cores), ' +
  'N × 10^6 ÷ (JS main thread µs/op) and N × 10^6 ÷ (acceptor µs/op) (each process has one of each, serial); ' +
  'in parentheses what sets it. It leaves out what does not grow with cores (memory bandwidth, NIC queues, locks).';
