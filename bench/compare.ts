// npm run bench:compare: muxftpd and every installed peer, one at a time, on
// loopback, the same scenarios against each, in one run. Writes
// bench/results/<date>/ (results.md, results.json, chart.svg) and prints the table.
//
//   npm run bench:compare -- [--servers muxftpd,vsftpd,...] [--scenarios login-100,small-100,...]
//                            [--duration S] [--idle-sessions N] [--idle-duration S]
//                            [--passive-sessions N] [--passive-duration S] [--mode epsv|pasv]
//                            [--large-mib N] [--out DIR] [--client-threads N] [--rounds N]
//                            [--tls-version 1.2|1.3]

import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { type DataMode, runFtpload, type TlsVersion, tlsVersions } from './client/ftpload.js';
import { clockTicks, cpuBetween, sampleCpu } from './client/cpu.js';
import { sampleInTime, treePss } from './client/pss.js';
import { buildReport, type MemorySample, type Report } from './client/report.js';
import { threadCost } from './client/thread-cost.js';
import { sampleTree } from './client/threads.js';
import { renderChart } from './chart.js';
import { type CompareSettings, planLoad, planRuns } from './matrix/plan.js';
import type { Cell, CompareResult } from './matrix/result.js';
import { type MatrixScenario, selectableScenarios, selectScenarios } from './matrix/scenarios.js';
import { formatMarkdown, formatTerminal } from './matrix/tables.js';
import { measureSignLimit } from './matrix/tls-limit.js';
import { certArgs, makeTlsCert } from './peers/tls-cert.js';
import { type Running, startServer, stopServer } from './peers/servers.js';
import { peers, type ServerName, serverNames, type TlsFiles } from './peers/table.js';
import { sh } from './shell.js';

const here = path.dirname(fileURLToPath(import.meta.url));
// dist/bench/compare.js or bench/compare.ts
const packageRoot = path.resolve(here, existsSync(path.join(here, '../package.json')) ? '..' : '../..');

function list<T extends string>(flag: string, v: string | undefined, all: readonly T[]): T[] {
  if (v === undefined) return [...all];
  const out = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of out) {
    if (!(all as readonly string[]).includes(s)) {
      console.error(`bench:compare: ${flag}: unknown '${s}' (one of ${all.join(', ')})`);
      process.exit(2);
    }
  }
  return out as T[];
}

function machineInfo(): Record<string, string> {
  const lscpu = sh('lscpu');
  const pick = (k: string): string => lscpu.split('\n').find((l) => l.startsWith(`${k}:`))?.split(':').slice(1).join(':').trim() ?? '';
  return {
    nproc: sh('nproc'),
    cpu: pick('Model name'),
    threadsPerCore: pick('Thread(s) per core'),
    uname: sh('uname -srvmo'),
    ulimitSoft: sh('ulimit -Sn'),
    ulimitHard: sh('ulimit -Hn'),
    memory: sh("free -m | awk '/^Mem:/ {print $2 \" MiB\"}'"),
    node: process.version,
    os: sh('. /etc/os-release && echo "$PRETTY_NAME"'),
    portRange: sh('cat /proc/sys/net/ipv4/ip_local_port_range').replace(/\s+/g, '-'),
    somaxconn: sh('cat /proc/sys/net/core/somaxconn'),
    // Forking peers need a process (vsftpd: two) per session: 19,000 idle sessions can hit it.
    pidMax: sh('cat /proc/sys/kernel/pid_max'),
  };
}

/** The served tree: small.bin (4 KiB), large.bin (when largeMiB is given), upload/ writable by the ftp user. */
function makeRoot(root: string, largeMiB: number | null): void {
  mkdirSync(path.join(root, 'upload'), { recursive: true, mode: 0o755 });
  const small = path.join(root, 'small.bin');
  if (!existsSync(small)) writeFileSync(small, randomBytes(4096));
  const large = path.join(root, 'large.bin');
  const want = (largeMiB ?? 0) * 1024 * 1024;
  if (largeMiB !== null && (!existsSync(large) || sh(`stat -c %s ${large}`) !== String(want))) {
    const chunk = randomBytes(1024 * 1024);
    writeFileSync(large, '');
    for (let i = 0; i < largeMiB; i++) writeFileSync(large, chunk, { flag: 'a' });
  }
  const uid = Number(sh('id -u ftp'));
  const gid = Number(sh('id -g ftp'));
  if (uid > 0) chownSync(path.join(root, 'upload'), uid, gid);
  spawnSync('chmod', ['755', root]);
}

/** Reads the file once so that the large-file runs serve it from the page cache. */
function warm(file: string): void {
  spawnSync('cat', [file], { stdio: 'ignore' });
}

/**
 * Before an upload run: no file left by an earlier run (or by hand) and no
 * dirty page waiting for writeback. Leftover uploads fill the page cache, and
 * the next server's writes then pay for reclaim: measured here, 16 GiB of
 * leftovers halved the upload rate of whichever server ran next.
 */
function startClean(root: string): void {
  cleanUploads(root);
  spawnSync('sync', { stdio: 'ignore' });
}

function cleanUploads(root: string): void {
  const dir = path.join(root, 'upload');
  for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { force: true, recursive: true });
}

/** Runs sharing a key share a server start; a new key starts a fresh server. */
function profileKey(server: ServerName, sc: MatrixScenario): string {
  return JSON.stringify({
    writable: sc.writable,
    fresh: sc.fresh || sc.memory ? sc.name : null,
    tls: sc.tls === true,
    muxftpd: server === 'muxftpd' ? (sc.muxftpd ?? null) : null,
  });
}

function positive(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) {
    console.error(`bench:compare: ${flag}: expected a positive number, got '${v}'`);
    process.exit(2);
  }
  return n;
}

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      servers: { type: 'string' },
      scenarios: { type: 'string' },
      duration: { type: 'string' },
      'idle-sessions': { type: 'string' },
      'peer-idle-sessions': { type: 'string' },
      'idle-duration': { type: 'string' },
      'passive-sessions': { type: 'string' },
      'passive-duration': { type: 'string' },
      'large-mib': { type: 'string' },
      'client-threads': { type: 'string' },
      processes: { type: 'string' },
      rounds: { type: 'string' },
      mode: { type: 'string' },
      'tls-version': { type: 'string' },
      root: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  const allScenarios = selectableScenarios();
  if (v.help) {
    console.log(`npm run bench:compare -- [--servers ${serverNames.join(',')}]
  [--scenarios ${allScenarios.join(',')}]
    (default: all but mixed; scaling = threads-1,threads-2, muxftpd only)
  [--duration S (10)] [--idle-sessions N (19000)] [--peer-idle-sessions N (5000)] [--idle-duration S (60)]
  [--passive-sessions N (5000)] [--passive-duration S (60, a cap: the run ends when every session is done)]
  [--large-mib N (1024)] [--mode epsv|pasv (epsv)]
  [--client-threads N (half the CPUs)] [--processes N (1): muxftpd's server processes] [--root DIR] [--out DIR (bench/results/<date>)]
  [--rounds N (3): each row but passive-5000 and idle runs N times, servers in turn
    (the order reversed every other round); a row shows its median round]
  [--tls-version 1.2|1.3 (1.3)]: the TLS rows' one version (--scenarios tls: those rows only;
    explicit FTPS, every server given the same ECDSA P-256 certificate made for the run)`);
    return;
  }
  const servers = list('--servers', v.servers, serverNames);
  const chosen = v.scenarios === undefined ? undefined : list('--scenarios', v.scenarios, allScenarios);
  const mode = v.mode ?? 'epsv';
  if (mode !== 'epsv' && mode !== 'pasv') {
    console.error(`bench:compare: --mode: epsv or pasv, got '${mode}'`);
    process.exit(2);
  }
  const tlsVersion = v['tls-version'] ?? '1.3';
  if (!(tlsVersions as readonly string[]).includes(tlsVersion)) {
    console.error(`bench:compare: --tls-version: 1.2 or 1.3, got '${tlsVersion}'`);
    process.exit(2);
  }
  const root = path.resolve(v.root ?? path.join(os.tmpdir(), 'muxftpd-bench-root'));
  const settings: CompareSettings = {
    duration: positive('--duration', v.duration, 10),
    idleSessions: Math.round(positive('--idle-sessions', v['idle-sessions'], 19000)),
    peerIdleSessions: Math.round(positive('--peer-idle-sessions', v['peer-idle-sessions'], 5000)),
    idleDuration: positive('--idle-duration', v['idle-duration'], 60),
    passiveSessions: Math.round(positive('--passive-sessions', v['passive-sessions'], 5000)),
    passiveDuration: positive('--passive-duration', v['passive-duration'], 60),
    largeMiB: Math.round(positive('--large-mib', v['large-mib'], 1024)),
    clientThreads: Math.round(positive('--client-threads', v['client-threads'], Math.max(1, Math.floor(os.availableParallelism() / 2)))),
    processes: Math.round(positive('--processes', v.processes, 1)),
    mode: mode as DataMode,
    root,
    tlsVersion: tlsVersion as TlsVersion,
  };
  const rounds = positive('--rounds', v.rounds, 3);
  if (!Number.isInteger(rounds)) {
    console.error(`bench:compare: --rounds: expected a whole number of at least 1, got '${v.rounds}'`);
    process.exit(2);
  }
  const stamp = new Date().toISOString().slice(0, 10);
  let out = path.resolve(v.out ?? path.join(packageRoot, 'bench/results', stamp));
  if (!v.out && existsSync(out)) out = `${out}-${new Date().toISOString().slice(11, 16).replace(':', '')}`;
  const stateBase = path.join(os.tmpdir(), 'muxftpd-bench-run');
  const scenarios = selectScenarios(chosen);
  const needsLarge = scenarios.some((s) => s.load.file === 'large.bin' || s.load.largeFile === 'large.bin');
  makeRoot(root, needsLarge ? settings.largeMiB : null);

  const result: CompareResult = {
    date: new Date().toISOString(),
    command: `npm run bench:compare -- ${process.argv.slice(2).join(' ')}`.trim(),
    machine: machineInfo(),
    settings: { ...settings, rounds },
    servers: [],
    scenarios,
    cells: [],
  };
  let current: Running | null = null;
  const cleanup = async (): Promise<void> => {
    if (current) await stopServer(current);
    current = null;
  };
  process.once('SIGINT', () => {
    void cleanup().then(() => process.exit(130));
  });

  // The TLS rows: one certificate for every server, and the signature limit beside them.
  let tlsFiles: TlsFiles | null = null;
  if (scenarios.some((s) => s.tls)) {
    const dir = path.join(stateBase, 'tls');
    try {
      tlsFiles = makeTlsCert(dir);
    } catch (e) {
      console.error(`bench:compare: TLS rows: ${(e as Error).message}`);
    }
    result.tls = {
      version: tlsVersion,
      cert: `openssl ${certArgs({ cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') }).join(' ')}`,
      signLimit: tlsFiles ? measureSignLimit() : null,
      ...(tlsFiles ? {} : { failure: 'no certificate: the openssl program (Debian package openssl) is needed' }),
    };
  }

  const ready: ServerName[] = [];
  for (const name of servers) {
    const peer = peers[name];
    const why = peer.missing(packageRoot);
    result.servers.push({ name, version: why ? '' : peer.version(packageRoot), installed: !why, note: why ? `${why}; install: ${peer.install}` : '' });
    if (why) console.error(`bench:compare: skipping ${name}: ${why} (install: ${peer.install})`);
    else ready.push(name);
  }
  // Whatever ends the loop, even a throw, stops the server it started.
  try {
    let profile: string | null = null;
    for (const { sc, round, rounds: n, servers: turn } of planRuns(result.scenarios, ready, rounds)) {
      for (const name of turn) {
        // The round is part of the key: the reversed order puts a round's last
        // server first in the next round, and each run gets a fresh start.
        const tlsWhy = sc.tls ? (tlsFiles ? peers[name].tlsMissing?.() : result.tls?.failure) : null;
        if (tlsWhy) {
          result.cells.push({ server: name, scenario: sc.name, round, report: null, failure: `no TLS: ${tlsWhy}`, argv: [] });
          continue;
        }
        const key = `${name} ${profileKey(name, sc)} ${round}`;
        if (profile !== key) {
          await cleanup();
          profile = null;
          try {
            const mux = name === 'muxftpd' ? sc.muxftpd : undefined;
            current = await startServer(name, {
              root, stateDir: path.join(stateBase, name), writable: sc.writable, packageRoot,
              threads: mux?.threads, pasvPorts: mux?.pasvPorts, processes: name === 'muxftpd' ? settings.processes : undefined,
              tls: sc.tls && tlsFiles ? tlsFiles : undefined,
            });
            profile = key;
            console.error(`== ${name} (pid ${current.pid}, 127.0.0.1:${current.spec.port}, passive ${current.pasvPorts}` +
              `${sc.writable ? ', writable' : ''}${sc.tls ? ', FTPS' : ''}${mux?.threads ? `, --threads ${mux.threads}` : ''}` +
              `${name === 'muxftpd' && settings.processes > 1 ? `, --processes ${settings.processes}` : ''})`);
          } catch (e) {
            console.error(`bench:compare: ${(e as Error).message}`);
            result.cells.push({ server: name, scenario: sc.name, round, report: null, failure: `did not start: ${(e as Error).message.split('\n')[0]}`, argv: [] });
            continue;
          }
        }
        const srv = current as Running | null;
        if (!srv) continue;
        const load = planLoad(sc, settings, name, srv.spec.port);
        if (load.largeFile) warm(path.join(root, load.largeFile));
        if (load.scenario === 'large' && load.file) warm(path.join(root, load.file));
        if (sc.writable) startClean(root);
        let baseline: MemorySample | undefined;
        let held: MemorySample | undefined;
        let heldSessions = 0;
        let sampling = false;
        let mostHeld = 0;
        if (sc.memory) baseline = await treePss(srv.pid);
        process.stderr.write(`   ${sc.name}${n > 1 ? ` (round ${round + 1} of ${n})` : ''} ... `);
        const cellBase = { server: name, scenario: sc.name, round, serverArgv: srv.argv, pasvPorts: srv.pasvPorts };
        try {
          // muxftpd's threads by class (its thread names say which is which); a peer's would all be "the rest".
          const threadsBefore = name === 'muxftpd' ? await sampleTree(srv.pid) : undefined;
          const cpuBefore = await sampleCpu(srv.pid);
          const loadStart = performance.now();
          const run = await runFtpload(load, (p) => {
            // Sample while the most sessions so far are held, not while they close at the end.
            if (sc.memory && !sampling && sampleInTime(p.t, load.duration) && p.established >= mostHeld) {
              mostHeld = p.established;
              sampling = true;
              const sessions = p.established;
              void treePss(srv.pid).then((m) => {
                // A late sample leaves the one before it standing.
                if (!sampleInTime((performance.now() - loadStart) / 1000, load.duration)) return;
                held = m;
                heldSessions = sessions;
              }).finally(() => {
                sampling = false;
              });
            }
          });
          const cpu = cpuBetween(cpuBefore, await sampleCpu(srv.pid)) ?? undefined;
          const threadsAfter = threadsBefore ? await sampleTree(srv.pid) : undefined;
          const report: Report = buildReport(run.summary, run.processes,
            baseline && held ? { baseline, held, sessions: heldSessions } : undefined);
          const threadCpu = threadsBefore && threadsAfter ? threadCost(threadsBefore, threadsAfter, report.ops, clockTicks()) : null;
          if (threadCpu) report.threadCpu = threadCpu;
          result.cells.push({ ...cellBase, report, failure: null, argv: run.argv, cpu });
          process.stderr.write(`${report.ops} ops, ${report.opsPerSec} ops/s, ${report.mbPerSec} MB/s, errors ${report.errorTotal}` +
            `${cpu ? `, box ${cpu.boxBusyPct}% busy (server ${cpu.serverCores} cores, ftpload ${cpu.clientCores})` : ''}` +
            `${sc.sizedBy === 'idle' ? `, alive ${report.aliveAtEnd} of ${report.concurrency}` : ''}` +
            `${report.memory?.perSessionKiB != null ? `, ${report.memory.perSessionKiB} KiB/session` : ''}` +
            `${sc.sizedBy === 'passive' ? `, ${report.maxDataHeld} data connections held at once` : ''}` +
            `${report.tls ? `, ${report.tls.fullHandshakes} full TLS handshakes, ${report.tls.dataResumed}/${report.tls.dataHandshakes} data resumed` : ''}\n`);
        } catch (e) {
          result.cells.push({ ...cellBase, report: null, failure: (e as Error).message, argv: [] });
          process.stderr.write(`failed: ${(e as Error).message}\n`);
        }
        if (sc.writable) cleanUploads(root);
        // Let TIME_WAIT sockets and exiting session processes settle between runs.
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  } finally {
    await cleanup();
  }

  mkdirSync(out, { recursive: true });
  const cells: Cell[] = result.cells;
  writeFileSync(path.join(out, 'results.json'), `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(path.join(out, 'chart.svg'), await renderChart(result));
  writeFileSync(path.join(out, 'results.md'), formatMarkdown(result));
  console.log(formatTerminal(result));
  console.log(`\nwrote ${path.relative(process.cwd(), out)}/{results.md,results.json,chart.svg} (${cells.length} runs)`);
}

main().catch((e: unknown) => {
  console.error(`bench:compare: ${e instanceof Error ? e.stack : String(e)}`);
  process.exitCode = 1;
});
