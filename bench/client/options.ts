// muxftpd-bench's command line: flags → LoadOptions. Bad input throws a
// BenchUsageError (the CLI prints it and exits 2).

import net from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import {
  dataModes, type DataMode, type LoadOptions, type Scenario, scenarios, tlsModes, type TlsMode, tlsVersions, type TlsVersion,
} from './ftpload.js';
import { maxStartAheadS } from './start-at.js';

export class BenchUsageError extends Error {
  readonly code = 'MUXFTPD_ERR_BENCH_USAGE';
}

export interface CliOptions {
  load: LoadOptions;
  json: boolean;
  quiet: boolean;
  pid?: number | undefined;
  help: boolean;
  /** No SIZE probe when neither --file-size nor --verify-local is given. */
  noProbe: boolean;
  /** --start-at: unix seconds at which the load starts (bench/client/start-at.ts). */
  startAt?: number | undefined;
}

export const usage = `Usage: muxftpd-bench --scenario NAME [options]

Drives many concurrent FTP sessions against any FTP server from native epoll
threads (the ftpload program), then prints ops/s, MB/s, latency and errors.

Scenarios:
  login        connect, log in, quit (an operation = a session)
  small        a new session per download of --file (an operation = a session)
  persistent   many downloads of --file per logged-in session (an operation = a download)
  large        downloads of --file (or --large-file) back to back; read MB/s
  upload       STOR of --upload-size bytes to --upload-prefix-*.bin (needs a writable server)
  idle         hold --concurrency logged-in sessions, a NOOP now and then; reports how many
               stay alive and, with --pid, the server's memory (PSS of its process tree)
  noop         NOOP flood: each logged-in session keeps --pipeline NOOPs in flight
               (an operation = a 200 reply; ops/s = command round trips per second)
  passive      each session runs once: log in, EPSV/PASV, open the data connection, wait
               until every session holds one, then RETR --file (an operation = a session
               whose transfer is done; use --source to spread the clients over addresses)
  mixed        each new session picks login, small, persistent or large by --mix weights

Phase latency: every run reports p50/p99/max of each phase (TCP connect, banner,
login, data setup, first byte, transfer done, QUIT); --json writes them under
"phases". Two such reports side by side (a direct run and one through a NAT):
  muxftpd-bench --phases-compare direct.json nat.json

Load from many hosts (docs/many-hosts.md): give every host the same
--start-at (unix seconds; the hosts' clocks must agree: NTP or chrony) and
--json, then combine the reports; percentiles, overall and per phase, come
from the merged histograms:
  muxftpd-bench merge a.json b.json ... [--json]
Locust master and workers: bench/locust/locustfile.py.

Middlebox probes: muxftpd-bench alg-suite --host H --port P [...] (see
muxftpd-bench alg-suite --help and docs/middlebox.md).

Options:
  --host IP                 server address, IPv4 or IPv6 (default 127.0.0.1)
  --port N                  control port (default 21)
  --concurrency N           sessions at once (default 1)
  --duration S              stop after S seconds (default 10)
  --count N                 stop after N operations (and at --duration, whichever first)
  --file PATH               remote file to download (small, persistent, large, passive, mixed)
  --large-file PATH         remote file for 'large' inside 'mixed' (default: --file)
  --file-size N             expected size of --file in bytes (default: asked with SIZE)
  --verify-local PATH       local copy of --file: its size, and its CRC-32 with --checksum
  --large-verify-local PATH local copy of --large-file
  --checksum                check the CRC-32 of every download (needs --verify-local)
  --user NAME, --pass WORD  login (default anonymous / bench@)
  --mode epsv|pasv|port|eprt  data connections (default epsv)
  --tls explicit|implicit   FTPS (RFC 4217): explicit = AUTH TLS after the 220, then USER/PASS,
                            and PBSZ 0 + PROT P before a session's first transfer; implicit =
                            TLS before the 220 (a port like 990). Every data connection is a TLS
                            client that resumes the session's TLS session (as vsftpd and proftpd
                            require). The server's certificate is NOT verified: a stress client.
                            Handshakes and resumptions are in the report.
  --tls-version 1.2|1.3     the one TLS version offered (default 1.3)
  --source RANGE            local source addresses, e.g. 127.0.0.2-127.0.0.20 or a,b,c
  --threads N               epoll threads per process (default: half the CPUs, at least 1)
  --processes N             ftpload processes sharing the sessions (default 1; an idle
                            session uses one fd, so one process holds ~fd-limit sessions)
  --upload-size BYTES       bytes per STOR (default 1048576)
  --upload-prefix PATH      remote name prefix for uploads (default upload/bench)
  --files-per-session N     persistent: downloads per session, 0 = until the end (default 0)
  --noop-interval S         idle: mean seconds between NOOPs (default 30)
  --pipeline N              noop: NOOPs in flight per session (default 16)
  --ramp N                  idle, noop, passive: sessions logging in at once per thread (default 256)
  --max-data-setups N       data setups (EPSV/PASV/PORT/EPRT sent, data connection not yet made)
                            in flight at once, shared out over --processes (so N >= --processes;
                            default: no limit); the other sessions wait their turn, first come
                            first served within each thread (threads take freed places as they
                            see them, within 20 ms). Through a NAT, keep it under its
                            expectation table (nf_conntrack_expect_max)
  --timeout S               any wait for the server longer than this is an error (default 30)
  --mix SPEC                mixed weights (default login=1,small=4,persistent=4,large=1)
  --expect-pasv-address A   the address every 227 must carry (default: --host); the report
                            counts 227/229 as expected or not, active data connections from
                            the server or elsewhere, PORT/EPRT refused (docs/middlebox.md).
                            Data connections still go to --host
  --pid PID                 the server's pid, for its memory (PSS) and its CPU per op by
                            thread (JS main thread, workers, acceptor, …; its descendant
                            processes included) in the report
  --start-at T              start the load at unix time T (seconds, fractions allowed; at most
                            24 h ahead), on this host's wall clock: hosts of one run must
                            agree on the time (NTP/chrony). Late: starts at once, says by how much
  --json                    print the report as JSON (with the merged summary: what merge reads)
  --quiet                   no live status line
  --no-probe                do not ask SIZE; downloads are then not size-checked
  --help                    show this help
`;

export function int(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min) {
    throw new BenchUsageError(`${flag}: expected an integer >= ${min}, got '${v}'`);
  }
  return Number(v);
}

export function num(flag: string, v: string | undefined, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min) {
    throw new BenchUsageError(`${flag}: expected a number >= ${min}, got '${v}'`);
  }
  return n;
}

/** An IPv4 or IPv6 address (brackets allowed), or a usage error naming the flag. */
export function address(flag: string, v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const a = v.replace(/^\[|\]$/g, '');
  if (!net.isIP(a)) throw new BenchUsageError(`${flag}: expected an IPv4 or IPv6 address, got '${v}'`);
  return a;
}

/** --start-at: unix seconds, not in milliseconds by mistake (at most maxStartAheadS ahead of `nowMs`). */
export function startAt(v: string | undefined, nowMs: number): number | undefined {
  const t = num('--start-at', v, 0);
  if (t === undefined) return undefined;
  if (t > nowMs / 1000 + maxStartAheadS) {
    throw new BenchUsageError(`--start-at: ${v} is more than 24 h ahead (unix time in seconds, e.g. $(( $(date +%s) + 30 )))`);
  }
  return t;
}

export function parseCli(argv: readonly string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        scenario: { type: 'string' },
        host: { type: 'string' },
        port: { type: 'string' },
        concurrency: { type: 'string' },
        duration: { type: 'string' },
        count: { type: 'string' },
        file: { type: 'string' },
        'large-file': { type: 'string' },
        'file-size': { type: 'string' },
        'verify-local': { type: 'string' },
        'large-verify-local': { type: 'string' },
        checksum: { type: 'boolean' },
        user: { type: 'string' },
        pass: { type: 'string' },
        mode: { type: 'string' },
        source: { type: 'string' },
        threads: { type: 'string' },
        processes: { type: 'string' },
        'upload-size': { type: 'string' },
        'upload-prefix': { type: 'string' },
        'files-per-session': { type: 'string' },
        'noop-interval': { type: 'string' },
        pipeline: { type: 'string' },
        'max-data-setups': { type: 'string' },
        ramp: { type: 'string' },
        timeout: { type: 'string' },
        mix: { type: 'string' },
        tls: { type: 'string' },
        'tls-version': { type: 'string' },
        pid: { type: 'string' },
        'expect-pasv-address': { type: 'string' },
        'start-at': { type: 'string' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
        'no-probe': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new BenchUsageError((e as Error).message);
  }
  const v = parsed.values;
  const help = v.help === true;
  const scenario = v.scenario ?? (help ? 'login' : undefined);
  if (scenario === undefined) throw new BenchUsageError('--scenario is required');
  if (!(scenarios as readonly string[]).includes(scenario)) {
    throw new BenchUsageError(`--scenario: one of ${scenarios.join(', ')}, got '${scenario}'`);
  }
  const mode = v.mode ?? 'epsv';
  if (!(dataModes as readonly string[]).includes(mode)) {
    throw new BenchUsageError(`--mode: one of ${dataModes.join(', ')}, got '${mode}'`);
  }
  const needsFile = ['small', 'persistent', 'large', 'passive', 'mixed'].includes(scenario);
  if (needsFile && v.file === undefined && !help) {
    throw new BenchUsageError(`--scenario ${scenario} needs --file`);
  }
  if (scenario === 'passive' && mode !== 'epsv' && mode !== 'pasv') {
    throw new BenchUsageError('--scenario passive needs --mode epsv or pasv');
  }
  if (v.tls !== undefined && !(tlsModes as readonly string[]).includes(v.tls)) {
    throw new BenchUsageError(`--tls: one of ${tlsModes.join(', ')}, got '${v.tls}'`);
  }
  if (v['tls-version'] !== undefined) {
    if (!(tlsVersions as readonly string[]).includes(v['tls-version'])) {
      throw new BenchUsageError(`--tls-version: one of ${tlsVersions.join(', ')}, got '${v['tls-version']}'`);
    }
    if (v.tls === undefined) throw new BenchUsageError('--tls-version needs --tls explicit|implicit');
  }
  const pipeline = int('--pipeline', v.pipeline, 1);
  if (pipeline !== undefined && pipeline > 4096) throw new BenchUsageError(`--pipeline: at most 4096, got '${v.pipeline}'`);
  if (v.checksum && v['verify-local'] === undefined && v['large-verify-local'] === undefined) {
    throw new BenchUsageError('--checksum needs --verify-local (the expected content)');
  }
  const port = int('--port', v.port, 1) ?? 21;
  if (port > 65535) throw new BenchUsageError(`--port: expected 1-65535, got '${v.port}'`);
  const host = v.host ?? '127.0.0.1';
  if (!/^[0-9a-fA-F:.]+$/.test(host.replace(/^\[|\]$/g, ''))) {
    throw new BenchUsageError(`--host: expected an IPv4 or IPv6 address, got '${host}'`);
  }
  const load: LoadOptions = {
    scenario: scenario as Scenario,
    host: host.replace(/^\[|\]$/g, ''),
    port,
    concurrency: int('--concurrency', v.concurrency, 1) ?? 1,
    duration: num('--duration', v.duration, 0) ?? 10,
    count: int('--count', v.count, 1),
    threads: int('--threads', v.threads, 1) ?? Math.max(1, Math.floor(os.availableParallelism() / 2)),
    processes: int('--processes', v.processes, 1) ?? 1,
    user: v.user ?? 'anonymous',
    pass: v.pass ?? 'bench@',
    mode: mode as DataMode,
    file: v.file,
    fileSize: int('--file-size', v['file-size'], 0),
    fileLocal: v['verify-local'],
    largeFile: v['large-file'],
    largeLocal: v['large-verify-local'],
    checksum: v.checksum === true,
    uploadSize: int('--upload-size', v['upload-size'], 1) ?? 1 << 20,
    uploadPrefix: v['upload-prefix'] ?? 'upload/bench',
    filesPerSession: int('--files-per-session', v['files-per-session'], 0) ?? 0,
    noopInterval: num('--noop-interval', v['noop-interval'], 0.01) ?? 30,
    pipeline: pipeline ?? (scenario === 'noop' ? 16 : undefined),
    timeout: num('--timeout', v.timeout, 0.01) ?? 30,
    ramp: int('--ramp', v.ramp, 1) ?? 256,
    maxDataSetups: int('--max-data-setups', v['max-data-setups'], 1),
    source: v.source,
    mix: v.mix,
    progressMs: 1000,
    expectPasvAddress: address('--expect-pasv-address', v['expect-pasv-address']),
    tls: v.tls as TlsMode | undefined,
    tlsVersion: v['tls-version'] as TlsVersion | undefined,
  };
  // Each process gets its share, at least 1 (ftpload's 0 is no limit): fewer than one
  // per process would let the processes together exceed N.
  if (load.maxDataSetups !== undefined && load.maxDataSetups < load.processes) {
    throw new BenchUsageError(`--max-data-setups: at least one per process (--processes ${load.processes}), got '${v['max-data-setups']}'`);
  }
  return {
    load,
    json: v.json === true,
    quiet: v.quiet === true,
    pid: int('--pid', v.pid, 1),
    help,
    noProbe: v['no-probe'] === true,
    startAt: startAt(v['start-at'], Date.now()),
  };
}
