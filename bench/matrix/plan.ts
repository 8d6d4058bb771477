// How bench:compare runs the scenarios: the order of a whole run (phases,
// rounds, the servers' turns) and the load of one scenario against one
// server (sessions, ftpload processes, files). Pure: unit-tested in
// test/unit/bench-compare.test.ts.

import type { DataMode, LoadOptions, TlsVersion } from '../client/ftpload.js';
import { type MatrixScenario, reference, referenceLoads, tlsServers } from './scenarios.js';

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
  /** muxftpd's --processes (1: the server in one process). */
  processes: number;
  mode: DataMode;
  root: string;
  /** The TLS rows' one TLS version (default 1.3). */
  tlsVersion?: TlsVersion;
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

/** Whether `server` runs scenario `sc` at all. */
export function runs(server: string, sc: MatrixScenario): boolean {
  if (sc.only) return sc.only === server;
  if (sc.tls && !tlsServers.has(server)) return false;
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
    ...(sc.tls ? { tls: 'explicit' as const, tlsVersion: st.tlsVersion ?? '1.3' } : {}),
  };
}
