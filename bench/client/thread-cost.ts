// The arithmetic of CPU by thread class: two samples of a server's process
// tree (threads.ts) and the operations done between them → µs of CPU per
// operation by class, the JS main thread per process, each native worker,
// and the ceiling that follows on a host of C cores. Pure functions,
// unit-tested in test/unit/bench-threads.test.ts.

import { classify, type ProcessTicks, type ThreadClass, threadClasses, type TreeSample } from './threads.js';

export interface ThreadCost {
  ops: number;
  seconds: number;
  /** Processes of the tree seen at the end of the window. */
  processes: number;
  /** µs of CPU per operation by class, summed over the tree's processes. */
  perOp: Record<ThreadClass, number>;
  /** The whole tree (every thread, exited ones included), µs per operation. */
  totalPerOp: number;
  /** Each process's JS main thread, µs per operation of the whole tree, in pid order. */
  jsPerProcess: number[];
  /** The busiest JS main thread: the serial part when the work is spread over processes. */
  jsMaxPerOp: number;
  /** Each native worker thread ("muxftpd-w0"; "2:muxftpd-w0" for the second process of several). */
  workers: Array<{ name: string; perOp: number }>;
  /** JS main threads (all) ÷ native workers (all): the ratio issue 22 halves. */
  jsPerWorker: number | null;
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Ticks used between the two samples of one process, by class and by thread (ticks, not µs). */
function processDelta(a: ProcessTicks | undefined, b: ProcessTicks): { total: number; byClass: Record<ThreadClass, number>; byThread: Map<string, number> } {
  const before = new Map((a?.threads ?? []).map((t) => [t.tid, t.ticks]));
  const byClass = Object.fromEntries(threadClasses.map((c) => [c, 0])) as Record<ThreadClass, number>;
  const byThread = new Map<string, number>();
  let named = 0;
  for (const t of b.threads) {
    // A thread started in the window counts from zero.
    const d = Math.max(0, t.ticks - (before.get(t.tid) ?? 0));
    const cls = classify(b.pid, t.tid, t.comm);
    if (cls === 'rest') continue;
    byClass[cls] += d;
    named += d;
    if (cls === 'worker') byThread.set(t.comm, (byThread.get(t.comm) ?? 0) + d);
  }
  const total = Math.max(0, b.ticks - (a?.ticks ?? 0));
  // The rest is the process's own time less the named threads': it keeps the
  // ticks of threads that exited in the window, which no live task shows.
  byClass.rest = Math.max(0, total - named);
  return { total: Math.max(total, named), byClass, byThread };
}

/**
 * CPU per operation between two samples of a tree. A process seen only at
 * the end counts from zero; one gone by the end is not counted (its time
 * left with it). `hz` = clock ticks per second (USER_HZ).
 */
export function threadCost(a: TreeSample, b: TreeSample, ops: number, hz: number): ThreadCost | null {
  if (ops <= 0 || b.processes.length === 0) return null;
  const us = (ticks: number): number => (ticks * 1e6) / hz / ops;
  const first = new Map(a.processes.map((p) => [p.pid, p]));
  const perOp = Object.fromEntries(threadClasses.map((c) => [c, 0])) as Record<ThreadClass, number>;
  let total = 0;
  const jsPerProcess: number[] = [];
  const workers: Array<{ name: string; perOp: number }> = [];
  const several = b.processes.length > 1;
  b.processes.forEach((p, i) => {
    const d = processDelta(first.get(p.pid), p);
    total += d.total;
    for (const c of threadClasses) perOp[c] += us(d.byClass[c]);
    jsPerProcess.push(round(us(d.byClass.js)));
    const names = [...d.byThread.keys()].sort((x, y) => x.localeCompare(y, 'en', { numeric: true }));
    for (const n of names) workers.push({ name: several ? `${i + 1}:${n}` : n, perOp: round(us(d.byThread.get(n) ?? 0)) });
  });
  for (const c of threadClasses) perOp[c] = round(perOp[c]);
  return {
    ops,
    seconds: round((b.atMs - a.atMs) / 1000),
    processes: b.processes.length,
    perOp,
    totalPerOp: round(us(total)),
    jsPerProcess,
    jsMaxPerOp: jsPerProcess.length ? Math.max(...jsPerProcess) : 0,
    workers,
    jsPerWorker: perOp.worker > 0 ? round(perOp.js / perOp.worker, 3) : null,
  };
}

export type Limiter = 'cores' | 'js' | 'acceptor';

export interface Ceiling {
  cores: number;
  deciders: number;
  opsPerSec: number;
  limitedBy: Limiter;
}

/**
 * The most operations per second a host of `cores` CPUs could serve with
 * `deciders` server processes, from one run's µs per operation, with the
 * load generator elsewhere. Each process has one JS main thread and one
 * acceptor: each is serial, so each caps the rate at deciders × 10^6 ÷ its
 * µs per op (the work assumed spread evenly over the processes). Everything
 * else (workers, file threads, libuv's pool, V8's helpers) divides over the
 * cores, and the whole tree's CPU caps the rate at cores × 10^6 ÷ total µs
 * per op. The ceiling is the lowest of the three. It leaves out what does
 * not grow with the cores (memory bandwidth, one NIC queue, lock contention).
 */
export function ceiling(cost: ThreadCost, cores: number, deciders: number): Ceiling | null {
  if (cost.totalPerOp <= 0 || cores <= 0 || deciders <= 0) return null;
  const bounds: Array<[Limiter, number]> = [['cores', (cores * 1e6) / cost.totalPerOp]];
  if (cost.perOp.js > 0) bounds.push(['js', (deciders * 1e6) / cost.perOp.js]);
  if (cost.perOp.acceptor > 0) bounds.push(['acceptor', (deciders * 1e6) / cost.perOp.acceptor]);
  const [limitedBy, rate] = bounds.reduce((m, x) => (x[1] < m[1] ? x : m));
  return { cores, deciders, opsPerSec: Math.round(rate), limitedBy };
}

/** The host sizes results.md projects to. */
export const projectedCores = [2, 4, 8, 16, 32, 64] as const;
