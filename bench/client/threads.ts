// CPU by thread class of a server's process tree: the JS main thread of each
// process, each native worker, the acceptor, the file threads, libuv's pool
// and the rest, from /proc/PID/task/TID/stat sampled at the start and the end
// of a measured window. The tree is the server's pid and every descendant
// (a primary with N server processes below it counts them all). Reading is
// here; the arithmetic is thread-cost.ts's.

import { readdir, readFile } from 'node:fs/promises';
import { processTree, readStats } from './pss.js';

/** The classes a thread's CPU is counted under. `worker` is also counted per thread (muxftpd-w0, -w1, …). */
export const threadClasses = ['js', 'worker', 'acceptor', 'files', 'libuv', 'rest'] as const;
export type ThreadClass = (typeof threadClasses)[number];

/** One thread at one moment: its name and its utime+stime in clock ticks. */
export interface ThreadTicks {
  tid: number;
  comm: string;
  ticks: number;
}

/** One process at one moment: its own utime+stime (exited threads included) and its live threads. */
export interface ProcessTicks {
  pid: number;
  ticks: number;
  threads: ThreadTicks[];
}

export interface TreeSample {
  atMs: number;
  processes: ProcessTicks[];
}

/** comm and utime+stime of a /proc/…/stat line ("pid (comm) state … utime stime …"). */
export function parseTaskStat(text: string): { comm: string; ticks: number } | null {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return null;
  // After "(comm) ": state is field 3; utime and stime are fields 14 and 15.
  const f = text.slice(close + 2).split(' ');
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  if (f.length < 13 || !Number.isFinite(utime) || !Number.isFinite(stime)) return null;
  return { comm: text.slice(open + 1, close), ticks: utime + stime };
}

/**
 * The class of a thread by its name (native/engine sets them: muxftpd-w<N>,
 * muxftpd-accept, muxftpd-files, muxftpd-fileops; libuv ≥ 1.50 names its pool
 * "libuv-worker"). The main thread (tid = pid) is the JS thread whatever its
 * name: process.title renames it. On a Node whose libuv leaves its pool
 * unnamed (Node 20), the pool's threads are "node" like V8's: rest.
 */
export function classify(pid: number, tid: number, comm: string): ThreadClass {
  if (tid === pid) return 'js';
  if (/^muxftpd-w\d+$/.test(comm)) return 'worker';
  if (comm === 'muxftpd-accept') return 'acceptor';
  if (comm === 'muxftpd-files' || comm === 'muxftpd-fileops') return 'files';
  if (comm === 'libuv-worker') return 'libuv';
  return 'rest';
}

async function readProcess(pid: number): Promise<ProcessTicks | null> {
  let own;
  try {
    own = parseTaskStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return null; // exited meanwhile
  }
  if (!own) return null;
  const threads: ThreadTicks[] = [];
  let tids: string[] = [];
  try {
    tids = await readdir(`/proc/${pid}/task`);
  } catch {
    return null;
  }
  for (const name of tids) {
    try {
      const t = parseTaskStat(await readFile(`/proc/${pid}/task/${name}/stat`, 'utf8'));
      if (t) threads.push({ tid: Number(name), comm: t.comm, ticks: t.ticks });
    } catch {
      // the thread exited meanwhile: its ticks stay in the process's own
    }
  }
  return { pid, ticks: own.ticks, threads };
}

/** The server's process tree now: `root` and its descendants (by ppid), each with its threads. */
export async function sampleTree(root: number): Promise<TreeSample> {
  const stats = (await readStats()).map((s) => s.stat);
  const pids = processTree(stats, root).sort((a, b) => a - b);
  const atMs = performance.now();
  const processes: ProcessTicks[] = [];
  for (const pid of pids) {
    const p = await readProcess(pid);
    if (p) processes.push(p);
  }
  return { atMs, processes };
}
