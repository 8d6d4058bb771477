// The scenarios of bench:compare (the performance issue's targets): what
// each runs, which figure of it is reported, the groups --scenarios takes,
// and which servers run which (the reference server only the loads it can
// serve). Data and selection only: the order of a run is plan.ts's.

import type { LoadOptions } from '../client/ftpload.js';

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
  /**
   * FTPS: explicit (AUTH TLS, PBSZ 0, PROT P), every data connection resuming
   * the session's TLS session; the servers get the run's certificate (tlsServers only).
   */
  tls?: boolean;
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
  // FTPS rows: the same loads over TLS (a full handshake per control
  // connection, resumed ones on data connections).
  { name: 'tls-login', title: 'TLS logins/s (AUTH TLS, a full handshake each), 100 sessions at once', metric: 'opsPerSec',
    unit: 'sessions/s', writable: false, memory: false, tls: true, load: { ...base, scenario: 'login', concurrency: 100 } },
  { name: 'tls-small', title: 'TLS small files/s (4 KiB), new session each, 100 clients', metric: 'opsPerSec', unit: 'files/s',
    writable: false, memory: false, tls: true, load: smallNew(100) },
  { name: 'tls-persistent', title: 'TLS small files/s (4 KiB), RETR on 100 open sessions', metric: 'opsPerSec', unit: 'files/s',
    writable: false, memory: false, tls: true, load: { ...base, scenario: 'persistent', concurrency: 100, file: 'small.bin' } },
  { name: 'tls-stream', title: 'TLS large file (page-cached), 1 stream', metric: 'mbPerSec', unit: 'MB/s', writable: false,
    memory: false, tls: true, load: { ...base, scenario: 'large', concurrency: 1, file: 'large.bin' } },
  { name: 'tls-idle', title: 'idle TLS sessions held (logged in over TLS, NOOP every ~10 s)', metric: 'aliveAtEnd', unit: 'sessions',
    writable: false, memory: true, fresh: true, sizedBy: 'idle', tls: true, load: { ...base, scenario: 'idle', concurrency: 19000 } },
  { name: 'tls-idle-memory', title: 'memory per idle TLS session (server PSS growth ÷ sessions held)', metric: 'perSessionKiB',
    unit: 'KiB/session', better: 'lower', writable: false, memory: false, from: 'tls-idle', tls: true,
    load: { ...base, scenario: 'idle', concurrency: 19000 } },
];

/** The servers the TLS rows run on (ftp-srv and the reference server have no FTPS here). */
export const tlsServers: ReadonlySet<string> = new Set(['muxftpd', 'vsftpd', 'proftpd', 'pure-ftpd', 'pyftpdlib']);

/** Names --scenarios takes besides the scenarios' own: a group of rows. */
export const scenarioGroups: Record<string, string[]> = {
  scaling: ['threads-1', 'threads-2'],
  tls: ['tls-login', 'tls-small', 'tls-persistent', 'tls-stream', 'tls-idle'],
};

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

/**
 * The reference server (native/bench/bare.cc): one thread, fixed replies, no
 * checks. Not a peer: never the best peer. It serves one small file, so it
 * runs only these loads.
 */
export const reference = 'bare';
export const referenceLoads: ReadonlySet<string> = new Set(['login', 'small', 'persistent', 'noop']);
