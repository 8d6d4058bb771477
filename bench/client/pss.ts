// Memory of a server under test: the proportional set size (PSS) summed over
// its whole process tree, from /proc/PID/smaps_rollup. PSS charges shared
// pages once in total, so forking servers (vsftpd, proftpd, pure-ftpd) are
// measured fairly against single-process ones.

import { readdir, readFile } from 'node:fs/promises';
import type { MemorySample } from './report.js';

export interface ProcStat {
  pid: number;
  ppid: number;
  session: number;
}

/** Fields after "(comm) " of /proc/PID/stat: state ppid pgrp session ... */
export function parseStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  const pid = Number.parseInt(text, 10);
  const f = text.slice(close + 2).split(' ');
  const ppid = Number(f[1]);
  const session = Number(f[3]);
  if (!Number.isFinite(pid) || !Number.isFinite(ppid) || !Number.isFinite(session)) return null;
  return { pid, ppid, session };
}

export function parsePssKiB(smapsRollup: string): number | null {
  const m = /^Pss:\s+(\d+) kB/m.exec(smapsRollup);
  return m ? Number(m[1]) : null;
}

/** pid, its descendants, and (when pid leads a session) every process of that session. */
export function processTree(stats: readonly ProcStat[], root: number): number[] {
  const children = new Map<number, number[]>();
  for (const s of stats) {
    const list = children.get(s.ppid);
    if (list) list.push(s.pid);
    else children.set(s.ppid, [s.pid]);
  }
  const out = new Set<number>([root]);
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.pop() as number;
    for (const c of children.get(p) ?? []) {
      if (!out.has(c)) {
        out.add(c);
        stack.push(c);
      }
    }
  }
  for (const s of stats) if (s.session === root) out.add(s.pid);
  return [...out];
}

/** Every process's /proc/PID/stat, parsed, with its text (processes gone meanwhile are left out). */
export async function readStats(): Promise<Array<{ stat: ProcStat; text: string }>> {
  const out: Array<{ stat: ProcStat; text: string }> = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = await readFile(`/proc/${name}/stat`, 'utf8');
      const stat = parseStat(text);
      if (stat) out.push({ stat, text });
    } catch {
      // the process exited meanwhile
    }
  }
  return out;
}

export async function treePss(root: number): Promise<MemorySample> {
  const stats = (await readStats()).map((s) => s.stat);
  let pssKiB = 0;
  let processes = 0;
  for (const pid of processTree(stats, root)) {
    try {
      const kib = parsePssKiB(await readFile(`/proc/${pid}/smaps_rollup`, 'utf8'));
      if (kib !== null) {
        pssKiB += kib;
        processes++;
      }
    } catch {
      // exited, or not ours to read
    }
  }
  return { pssKiB, processes };
}

/**
 * Whether a memory sample `atS` seconds into a load of `durationS` is taken
 * while the sessions are held: in the load's last half second they close.
 * Checked when a sample starts and again when it ends: a walk of thousands
 * of processes takes seconds, and one that ends late has missed a forking
 * server's session processes (pure-ftpd read 0 KiB a session so).
 */
export function sampleInTime(atS: number, durationS: number): boolean {
  return atS <= durationS - 0.5;
}
