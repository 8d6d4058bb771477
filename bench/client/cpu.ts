// CPU spent during one load run, so a result shows what limited it: the whole
// machine's busy share (from /proc/stat), the server's process tree and the
// load generator. On a box of few cores the client shares the CPUs with the
// server: a figure taken with the box near 100% busy is the machine's limit,
// not only the server's.

import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { processTree, readStats } from './pss.js';

/** Cumulative counters at one moment; the tick counts are in clock ticks (USER_HZ). */
export interface CpuSample {
  atMs: number;
  boxBusy: number;
  boxTotal: number;
  server: number;
  client: number;
}

/** CPU used between two samples; cores = CPU-seconds per second. */
export interface CpuUse {
  /** Busy share of all the machine's CPUs, in percent. */
  boxBusyPct: number;
  /** The server's whole process tree, in cores. */
  serverCores: number;
  /** The load generator's processes, in cores. */
  clientCores: number;
}

/** The "cpu" line of /proc/stat: busy ticks (user, nice, system, irq, softirq, steal) and all ticks. */
export function parseBoxTicks(procStat: string): { busy: number; total: number } | null {
  const all = procStat.split('\n').find((l) => l.startsWith('cpu '));
  const f = all?.trim().split(/\s+/).slice(1, 9).map(Number) ?? [];
  if (f.length < 8 || f.some((v) => !Number.isFinite(v))) return null;
  const [user, nice, system, idle, iowait, irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** utime+stime of a process (own), and cutime+cstime (its children that it has reaped), from /proc/PID/stat. */
export function parseStatTicks(text: string): { own: number; reaped: number } | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // After "(comm) ": state is field 3, utime..cstime are fields 14-17.
  const f = text.slice(close + 2).split(' ').slice(11, 15).map(Number);
  if (f.length < 4 || f.some((v) => !Number.isFinite(v))) return null;
  const [utime, stime, cutime, cstime] = f as [number, number, number, number];
  return { own: utime + stime, reaped: cutime + cstime };
}

let ticksPerSecond: number | null = null;

/** USER_HZ: the unit of /proc's utime and stime. */
export function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/**
 * Counters now. The server's tree counts each live process's own time and what
 * it has reaped (a forking server's finished sessions; a child nobody waits
 * for, or one handed to init, is not counted once gone: the server's figure
 * is then a floor); the load generator's is what this process has reaped:
 * each ftpload has exited and been reaped when its run ends, and nothing else
 * of ours exits during a run.
 */
export async function sampleCpu(serverPid: number): Promise<CpuSample> {
  clockTicks();
  const box = parseBoxTicks(await readFile('/proc/stat', 'utf8'));
  // The box's ticks and the clock together: the process scan after them may
  // take a while (tens of thousands of processes of a forking peer).
  const atMs = performance.now();
  const stats = await readStats();
  const tree = new Set(processTree(stats.map((s) => s.stat), serverPid));
  let server = 0;
  let client = 0;
  for (const { stat, text } of stats) {
    const t = parseStatTicks(text);
    if (!t) continue;
    if (tree.has(stat.pid)) server += t.own + t.reaped;
    if (stat.pid === process.pid) client = t.reaped;
  }
  return { atMs, boxBusy: box?.busy ?? 0, boxTotal: box?.total ?? 0, server, client };
}

export function cpuBetween(a: CpuSample, b: CpuSample, hz: number = clockTicks()): CpuUse | null {
  const seconds = (b.atMs - a.atMs) / 1000;
  const total = b.boxTotal - a.boxTotal;
  if (seconds <= 0 || total <= 0) return null;
  const round2 = (v: number): number => Math.round(v * 100) / 100;
  // Clamped: a server child gone unreaped between the samples takes its ticks along.
  return {
    boxBusyPct: Math.round((100 * (b.boxBusy - a.boxBusy)) / total),
    serverCores: round2(Math.max(0, b.server - a.server) / hz / seconds),
    clientCores: round2(Math.max(0, b.client - a.client) / hz / seconds),
  };
}
