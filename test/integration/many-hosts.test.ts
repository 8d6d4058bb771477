// Load from many hosts (issue 25), on this machine over loopback against a
// real muxftpd: ftpload's --stream-ms lines add up exactly to its summary;
// two muxftpd-bench runs started together with --start-at merge into one
// report whose counts are theirs and the server's; and a Locust master with
// two workers (bench/locust/locustfile.py, headless, --expect-workers 2)
// whose CSV totals equal what the workers' ftpload runs did and what the
// server counted. Every run is bounded by --count (so nothing is in flight at
// the end), --duration, --run-time and a deadline; every process started here
// is stopped by its pid. Speed is never asserted.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBenchTool } from '../../bench/client/ftpload.js';
import type { MergedRuns } from '../../bench/client/merge.js';
import { phaseNames } from '../../bench/client/phases.js';
import type { FtploadSummary, HistogramJson, Report } from '../../bench/client/report.js';
import { benchCliPath, buildBench } from '../nat/lab.js';
import { missing, notBuilt } from '../helpers/requires.js';
import { canListenOn, killChild, run, start, type Tracked, withTimeout } from './helpers/clients.js';
import { repo } from './helpers/cli.js';
import { useServer } from './helpers/server.js';

const srv = useServer();
const locustfile = path.join(repo, 'bench', 'locust', 'locustfile.py');
const work = mkdtempSync(path.join(os.tmpdir(), 'muxftpd-many-hosts-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The server's counts that a run of `small` sessions moves (one RETR, USER, QUIT each). */
async function serverCounts(): Promise<{ sessions: number; USER: number; RETR: number; QUIT: number }> {
  const s = await srv.server.stats();
  return { sessions: s.sessionsTotal, USER: s.commands.USER ?? 0, RETR: s.commands.RETR ?? 0, QUIT: s.commands.QUIT ?? 0 };
}

function delta(a: Awaited<ReturnType<typeof serverCounts>>, b: typeof a): typeof a {
  return { sessions: b.sessions - a.sessions, USER: b.USER - a.USER, RETR: b.RETR - a.RETR, QUIT: b.QUIT - a.QUIT };
}

const smallArgs = (): string[] => ['--scenario', 'small', '--file', srv.files.hello.path, '--file-size', String(srv.files.hello.size)];

describe.skipIf(notBuilt('ftpload'))('ftpload --stream-ms', () => {
  it('streams every sample and error it counts: the lines add up to the summary', { timeout: 60_000 }, async () => {
    const r = await run(findBenchTool('ftpload'), [
      '--host', srv.host, '--port', String(srv.port), ...smallArgs(), '--concurrency', '3', '--threads', '2',
      '--count', '60', '--duration', '30', '--timeout', '10', '--stream-ms', '20',
    ], { timeoutMs: 45_000 });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.at(-1) as unknown as FtploadSummary;
    expect(summary.type).toBe('summary');
    const samples = lines.filter((l) => l.type === 'samples') as Array<Record<string, number[]>>;
    const all = (key: string): number[] => samples.flatMap((s) => s[key] ?? []);
    const same = (h: HistogramJson, values: number[], what: string): void => {
      expect(values.length, `${what} count`).toBe(h.count);
      expect(values.reduce((x, y) => x + y, 0), `${what} sum`).toBe(h.sum_us);
    };
    expect(summary.ops).toBe(60);
    expect(samples.filter((s) => 'dropped' in s)).toEqual([]); // far below --stream-max: nothing dropped
    same(summary.latency, all('op'), 'op');
    for (const n of phaseNames) same(summary.phases![n], all(n), n);
    expect(all('data_setup').length).toBe(60);
  });

  it('keeps at most --stream-max samples per channel in a line and counts the rest as dropped', { timeout: 60_000 }, async () => {
    // --stream-ms longer than the run: everything lands in the last line, after the workers stopped.
    const r = await run(findBenchTool('ftpload'), [
      '--host', srv.host, '--port', String(srv.port), ...smallArgs(), '--concurrency', '2', '--threads', '1',
      '--count', '20', '--duration', '30', '--timeout', '10', '--stream-ms', '600000', '--stream-max', '5',
    ], { timeoutMs: 45_000 });
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const summary = lines.at(-1) as unknown as FtploadSummary;
    expect(summary.ops).toBe(20);
    const samples = lines.filter((l) => l.type === 'samples') as Array<Record<string, number[]> & { dropped?: Record<string, number> }>;
    expect(samples).toHaveLength(1);
    const line = samples[0]!;
    expect(line.op).toHaveLength(5);
    expect(line.dropped?.op).toBe(15);
    for (const n of phaseNames) {
      expect((line[n]?.length ?? 0) + (line.dropped?.[n] ?? 0), n).toBe(summary.phases![n].count);
      expect(line[n]?.length ?? 0, n).toBeLessThanOrEqual(5);
    }
  });

  it('stops and exits when its reader is gone (EPIPE), instead of running out its --duration', { timeout: 60_000 }, async () => {
    const p = start(findBenchTool('ftpload'), [
      '--host', srv.host, '--port', String(srv.port), ...smallArgs(), '--concurrency', '2', '--threads', '1',
      '--duration', '600', '--timeout', '10', '--stream-ms', '20',
    ]);
    try {
      // The reader goes away after the first line (as a Locust worker that died).
      await withTimeout(new Promise((resolve) => p.child.stdout!.once('data', resolve)), 20_000, 'the first line');
      p.child.stdout!.destroy();
      const end = await withTimeout(p.exited, 20_000, 'ftpload to stop');
      expect(end, p.stderr()).toEqual({ code: 0, signal: null });
    } finally {
      killChild(p.child);
    }
  });
});

describe.skipIf(notBuilt('ftpload'))('muxftpd-bench --start-at and merge', () => {
  it('starts two runs at the same time and merges them into the sum of both, as the server counted', { timeout: 240_000 }, async () => {
    await buildBench();
    const before = await serverCounts();
    const at = (Date.now() / 1000 + 2).toFixed(3);
    const bench = (): Promise<Awaited<ReturnType<typeof run>>> => run(process.execPath, [
      benchCliPath, '--host', srv.host, '--port', String(srv.port), ...smallArgs(), '--concurrency', '2', '--threads', '1',
      '--count', '20', '--duration', '30', '--timeout', '10', '--start-at', at, '--json', '--quiet',
    ], { timeoutMs: 60_000 });
    const files = (await Promise.all([bench(), bench()])).map((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      // A report is one JSON line: what merge reads.
      expect(r.stdout.toString().trim().split('\n')).toHaveLength(1);
      const f = path.join(work, `run-${i}.json`);
      writeFileSync(f, r.stdout);
      return f;
    });
    const reports = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as Report);
    for (const r of reports) {
      // Never before the time it was given (waitUntil sleeps again when a timer fires early).
      expect(r.startedAt).toBeGreaterThanOrEqual(Number(at));
      expect(r.ops).toBe(20);
    }
    const m = await run(process.execPath, [benchCliPath, 'merge', ...files, '--json'], { timeoutMs: 30_000 });
    expect(m.code, m.stderr).toBe(0);
    const merged = JSON.parse(m.stdout.toString()) as Report & { merged: MergedRuns };
    expect(merged.ops).toBe(40);
    expect(merged.errorTotal).toBe(0);
    expect(merged.merged.runs).toBe(2);
    expect(merged.merged.startSpreadS).toBeCloseTo(Math.abs(reports[0]!.startedAt! - reports[1]!.startedAt!), 3);
    for (const n of phaseNames) {
      expect(merged.summary?.phases?.[n].count, n).toBe((reports[0]!.phases?.[n].count ?? 0) + (reports[1]!.phases?.[n].count ?? 0));
    }
    const d = delta(before, await serverCounts());
    expect(d.RETR).toBe(40);
    expect(d.USER).toBe(merged.phases?.login.count);
    expect(d.sessions).toBe(merged.phases?.connect.count);
    const text = await run(process.execPath, [benchCliPath, 'merge', ...files], { timeoutMs: 30_000 });
    expect(text.stdout.toString()).toMatch(/^merged {2}2 runs, started within [\d.]+ s of each other\n/);
    expect(text.stdout.toString()).toMatch(/operations\s+40 /);
  });
});


/** Locust's --csv PREFIX_stats.csv: request count and failures by "type name" (the Aggregated row as "Aggregated"). */
function csvCounts(file: string): Map<string, { requests: number; failures: number }> {
  const [header, ...rows] = readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(','));
  const col = (name: string): number => header!.indexOf(name);
  expect(col('Request Count')).toBeGreaterThan(-1);
  const out = new Map<string, { requests: number; failures: number }>();
  for (const r of rows) {
    const key = r[col('Type')] === '' ? r[col('Name')]! : `${r[col('Type')]} ${r[col('Name')]}`;
    out.set(key, { requests: Number(r[col('Request Count')]), failures: Number(r[col('Failure Count')]) });
  }
  return out;
}

/**
 * A free port for the Locust master below the ephemeral range: a port from it
 * may still be held by one of ftpload's connections, or be taken by a
 * worker's own connect while the master is not listening yet (a TCP self-connect).
 */
async function masterPortBelowEphemeral(): Promise<number> {
  const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  for (let i = 0; i < 100; i++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (await canListenOn('127.0.0.1', port)) return port;
  }
  throw new Error('no free port below the ephemeral range');
}

describe.skipIf(notBuilt('ftpload') || missing('locust'))('Locust: a master and two workers driving ftpload', () => {
  it('reports each phase as a request type, the CSV totals being the workers\' runs and the server\'s counts', { timeout: 120_000 }, async () => {
    const dir = path.join(work, 'locust');
    const summaries = path.join(dir, 'summaries');
    mkdirSync(summaries, { recursive: true });
    const masterPort = String(await masterPortBelowEphemeral());
    // 4 users (2 per worker), each an ftpload of 2 sessions doing 25 small downloads, then stopping.
    const env = {
      ...process.env,
      MUXFTPD_LOCUST_SCENARIO: 'small',
      MUXFTPD_LOCUST_FILE: srv.files.hello.path,
      MUXFTPD_LOCUST_SESSIONS: '2',
      MUXFTPD_LOCUST_COUNT: '25',
      MUXFTPD_LOCUST_ARGS: `--file-size ${srv.files.hello.size} --timeout 10`,
      MUXFTPD_LOCUST_SUMMARIES: summaries,
      FTPLOAD_BIN: path.resolve(findBenchTool('ftpload')),
    };
    const before = await serverCounts();
    const procs: Tracked[] = [];
    try {
      const master = start('locust', [
        '-f', locustfile, '--master', '--master-bind-host', '127.0.0.1', '--master-bind-port', masterPort,
        '--headless', '--expect-workers', '2', '--users', '4', '--spawn-rate', '4', '--run-time', '8s',
        '--stop-timeout', '20', '--host', `ftp://${srv.host}:${srv.port}`, '--csv', path.join(dir, 'run'),
      ], { env, cwd: dir });
      procs.push(master);
      for (let i = 0; i < 2; i++) {
        procs.push(start('locust', ['-f', locustfile, '--worker', '--master-host', '127.0.0.1', '--master-port', masterPort], { env, cwd: dir }));
      }
      const end = await withTimeout(master.exited, 90_000, 'the Locust master');
      expect(end.code, procs.map((p) => p.stderr()).join('\n---\n')).toBe(0);
      expect(master.stderr()).not.toMatch(/pre 2\.0|Traceback/);
    } finally {
      for (const p of procs) killChild(p.child, 'SIGTERM');
      await Promise.all(procs.map((p) => withTimeout(p.exited, 20_000, 'a Locust process').catch(() => killChild(p.child))));
    }
    const runs = readdirSync(summaries).map((f) => JSON.parse(readFileSync(path.join(summaries, f), 'utf8')) as FtploadSummary);
    expect(runs).toHaveLength(4);
    const sum = (f: (s: FtploadSummary) => number): number => runs.reduce((n, s) => n + f(s), 0);
    expect(sum((s) => s.ops)).toBe(100);
    expect(sum((s) => Object.values(s.errors).reduce((a, b) => a + b, 0))).toBe(0);
    const csv = csvCounts(path.join(dir, 'run_stats.csv'));
    expect(csv.get('op small')).toEqual({ requests: 100, failures: 0 });
    let total = 100;
    for (const n of phaseNames) {
      const did = sum((s) => s.phases![n].count);
      expect(did, n).toBeGreaterThan(0);
      expect(csv.get(`${n} small`), n).toEqual({ requests: did, failures: 0 });
      total += did;
    }
    expect(csv.get('Aggregated')).toEqual({ requests: total, failures: 0 });
    const d = delta(before, await serverCounts());
    expect(d.RETR).toBe(csv.get('xfer_done small')?.requests);
    expect(d.USER).toBe(csv.get('login small')?.requests);
    expect(d.QUIT).toBe(csv.get('quit small')?.requests);
    expect(d.sessions).toBe(csv.get('connect small')?.requests);
  });

  it('stops a user that cannot run, with one failed request saying why, instead of retrying in a loop', { timeout: 60_000 }, async () => {
    const dir = path.join(work, 'locust-bad');
    mkdirSync(dir, { recursive: true });
    const env = { ...process.env, FTPLOAD_BIN: path.resolve(findBenchTool('ftpload')) };
    const bad = async (host: string, extra: NodeJS.ProcessEnv): Promise<Map<string, { requests: number; failures: number }>> => {
      const csv = path.join(dir, `run-${Math.random().toString(36).slice(2)}`);
      const p = start('locust', ['-f', locustfile, '--headless', '--users', '2', '--spawn-rate', '2', '--run-time', '3s',
        '--host', host, '--csv', csv], { env: { ...env, ...extra }, cwd: dir });
      try {
        const end = await withTimeout(p.exited, 45_000, 'locust');
        expect(end.code, p.stderr()).toBe(1); // Locust's exit code when requests failed
      } finally {
        killChild(p.child, 'SIGTERM');
      }
      return csvCounts(`${csv}_stats.csv`);
    };
    expect((await bad('http://127.0.0.1:21', {})).get('error setup')).toEqual({ requests: 2, failures: 2 });
    const missingProgram = await bad(`ftp://${srv.host}:${srv.port}`, { FTPLOAD_BIN: path.join(dir, 'no-such-ftpload') });
    expect(missingProgram.get('error ftpload_start')).toEqual({ requests: 2, failures: 2 });
    const badFlag = await bad(`ftp://${srv.host}:${srv.port}`, { MUXFTPD_LOCUST_SCENARIO: 'bogus' });
    expect(badFlag.get('error ftpload_exit_2')).toEqual({ requests: 2, failures: 2 });
  });
});
