// The TLS side of the bench, without a server: muxftpd-bench's --tls and
// --tls-version, ftpload's argv, the summary's tls object merged and reported,
// bench:compare's TLS rows (which servers, which load, each server's FTPS
// config), openssl speed's line read, and results.md's TLS section.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ftploadArgs } from '../../bench/client/ftpload.js';
import { BenchUsageError, parseCli, usage } from '../../bench/client/options.js';
import { buildReport, formatReport, type FtploadSummary, mergeSummaries } from '../../bench/client/report.js';
import { type CompareSettings, planLoad, planRuns } from '../../bench/matrix/plan.js';
import type { Cell, CompareResult } from '../../bench/matrix/result.js';
import { matrixScenarios, selectScenarios } from '../../bench/matrix/scenarios.js';
import { formatMarkdown, formatTerminal } from '../../bench/matrix/tables.js';
import { parseSpeed } from '../../bench/matrix/tls-limit.js';
import { cpuPerOp, handshakesPerCore } from '../../bench/matrix/tls-section.js';
import { launch } from '../../bench/peers/servers.js';
import { peers } from '../../bench/peers/table.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const tlsFiles = { cert: '/run/t/cert.pem', key: '/run/t/key.pem' };

describe('muxftpd-bench --tls', () => {
  const cli = (...a: string[]) => parseCli(['--scenario', 'small', '--file', 'f', ...a]);
  it('takes explicit or implicit and a version, and passes both to ftpload', () => {
    const o = cli('--tls', 'explicit', '--tls-version', '1.2').load;
    expect(o).toMatchObject({ tls: 'explicit', tlsVersion: '1.2' });
    const argv = ftploadArgs(o);
    expect(argv.slice(argv.indexOf('--tls'), argv.indexOf('--tls') + 4)).toEqual(['--tls', 'explicit', '--tls-version', '1.2']);
    expect(ftploadArgs(cli('--tls', 'implicit').load)).toContain('implicit');
    expect(ftploadArgs(cli('--tls', 'implicit').load)).not.toContain('--tls-version');
  });
  it('is off unless asked', () => {
    const o = cli().load;
    expect(o.tls).toBeUndefined();
    expect(ftploadArgs(o)).not.toContain('--tls');
  });
  it('refuses another mode, another version, and a version without --tls', () => {
    expect(() => cli('--tls', 'ssl')).toThrow(BenchUsageError);
    expect(() => cli('--tls', 'ssl')).toThrow("--tls: one of explicit, implicit, got 'ssl'");
    expect(() => cli('--tls', 'explicit', '--tls-version', '1.1')).toThrow("--tls-version: one of 1.2, 1.3, got '1.1'");
    expect(() => cli('--tls-version', '1.3')).toThrow('--tls-version needs --tls explicit|implicit');
  });
  it('says in its help that the certificate is not verified', () => {
    expect(usage).toMatch(/--tls explicit\|implicit/);
    expect(usage).toMatch(/certificate is NOT verified/);
  });
});

function summary(over: Partial<FtploadSummary> = {}): FtploadSummary {
  const h = { count: 0, sum_us: 0, min_us: 0, max_us: 0, buckets: [] };
  return {
    type: 'summary', tag: '', scenario: 'small', mode: 'epsv', host: '127.0.0.1', port: 21, threads: 1,
    concurrency: 10, duration_s: 2, count: 0, elapsed_s: 2, ops: 100, ops_by_kind: { small: 100 },
    bytes: 409_600, sessions_started: 100, sessions_ok: 100, errors: {}, aborted_at_end: 0,
    alive_at_end: 0, max_established: 10, verified_size: 100, verified_checksum: 0, fd_limit: 20000,
    latency: h, login_latency: h, ...over,
  };
}
const tlsOf = (ctl: number, data: number, resumed: number) => ({
  mode: 'explicit', version: '1.3', library: 'OpenSSL 3.0.x', ctl_handshakes: ctl, data_handshakes: data,
  data_resumed: resumed, sessions_issued: 2 * ctl,
});

describe('the tls object of ftpload’s summary', () => {
  it('adds up over processes and counts full handshakes: every control one, and data ones not resumed', () => {
    const m = mergeSummaries([summary({ tls: tlsOf(100, 100, 90) }), summary({ tls: tlsOf(50, 50, 50) })]);
    expect(m.tls).toMatchObject({ ctl_handshakes: 150, data_handshakes: 150, data_resumed: 140, sessions_issued: 300 });
    const r = buildReport(m);
    expect(r.tls).toMatchObject({ fullHandshakes: 160, fullHandshakesPerSec: 80, dataHandshakes: 150, dataResumed: 140 });
    expect(formatReport(r)).toMatch(/^tls +explicit, TLS 1\.3 .*certificate not verified.*160 full handshakes \(80\.0\/s\), 140 of 150 data connections resumed/m);
  });
  it('is absent without --tls, and from older builds', () => {
    expect(buildReport(summary({ tls: null })).tls).toBeUndefined();
    expect(buildReport(summary()).tls).toBeUndefined();
    expect(mergeSummaries([summary(), summary()]).tls).toBeNull();
    expect(formatReport(buildReport(summary()))).not.toMatch(/^tls/m);
  });
});

const settings: CompareSettings = {
  duration: 3, idleSessions: 19000, peerIdleSessions: 500, idleDuration: 10, passiveSessions: 5000, passiveDuration: 60,
  largeMiB: 64, clientThreads: 1, processes: 1, mode: 'epsv', root: '/tmp/r',
};
const sc = (name: string) => {
  const s = matrixScenarios.find((m) => m.name === name);
  if (!s) throw new Error(`no ${name}`);
  return s;
};

describe('bench:compare’s TLS rows', () => {
  it('are the group tls, with the idle memory row brought along', () => {
    expect(selectScenarios(['tls']).map((s) => s.name)).toEqual(
      ['tls-login', 'tls-small', 'tls-persistent', 'tls-stream', 'tls-idle', 'tls-idle-memory']);
    expect(selectScenarios(['tls']).every((s) => s.tls)).toBe(true);
  });
  it('run on the servers with FTPS here: not ftp-srv, not the reference server', () => {
    const all = ['muxftpd', 'vsftpd', 'proftpd', 'pure-ftpd', 'pyftpdlib', 'ftp-srv', 'bare'] as const;
    for (const r of planRuns(selectScenarios(['tls']), all, 1)) {
      expect(r.servers).toEqual(['muxftpd', 'vsftpd', 'proftpd', 'pure-ftpd', 'pyftpdlib']);
    }
  });
  it('load explicit FTPS with the run’s TLS version (1.3 unless told), the same loads as their clear-text rows', () => {
    const login = planLoad(sc('tls-login'), settings, 'vsftpd', 2201);
    expect(login).toMatchObject({ scenario: 'login', concurrency: 100, tls: 'explicit', tlsVersion: '1.3' });
    expect(ftploadArgs(planLoad(sc('tls-small'), { ...settings, tlsVersion: '1.2' }, 'pyftpdlib', 2204)))
      .toEqual(expect.arrayContaining(['--tls', 'explicit', '--tls-version', '1.2', '--file', 'small.bin']));
    expect(planLoad(sc('tls-stream'), settings, 'muxftpd', 2210)).toMatchObject({ scenario: 'large', concurrency: 1, file: 'large.bin' });
    expect(planLoad(sc('tls-idle'), settings, 'proftpd', 2202)).toMatchObject({ scenario: 'idle', concurrency: 500, tls: 'explicit' });
    expect(planLoad(sc('small-100'), settings, 'muxftpd', 2210).tls).toBeUndefined();
  });
  it('give every server the same certificate: vsftpd and proftpd in their config, pure-ftpd, pyftpdlib and muxftpd as arguments', () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'bench-tls-'));
    try {
      const o = { root: '/srv', stateDir, writable: false, packageRoot };
      const vs = (tls: boolean) => launch('vsftpd', peers.vsftpd, { ...o, tls: tls ? tlsFiles : undefined }).files['vsftpd.conf'] ?? '';
      expect(vs(true)).toMatch(/^ssl_enable=YES$/m);
      expect(vs(true)).toMatch(/^allow_anon_ssl=YES$/m);
      expect(vs(true)).toMatch(/^rsa_cert_file=\/run\/t\/cert\.pem$/m);
      expect(vs(true)).toMatch(/^rsa_private_key_file=\/run\/t\/key\.pem$/m);
      expect(vs(true)).not.toMatch(/^require_ssl_reuse=/m);  // its default: YES
      expect(vs(true)).not.toMatch(/\{\{/);
      expect(vs(false)).not.toMatch(/ssl_enable/);
      const pro = (tls: boolean) => launch('proftpd', peers.proftpd, { ...o, tls: tls ? tlsFiles : undefined }).files['proftpd.conf'] ?? '';
      expect(pro(true)).toMatch(/^ {2}LoadModule +mod_tls\.c$/m);
      expect(pro(true)).toMatch(/^ {2}ModulePath +\S+\/lib\/proftpd$/m);
      expect(pro(true)).toMatch(/^ {2}TLSECCertificateFile +\/run\/t\/cert\.pem$/m);
      expect(pro(true)).not.toMatch(/^\s*TLSOptions/m);  // the default: data connections must resume
      expect(pro(true)).not.toMatch(/\{\{/);
      expect(pro(false)).not.toMatch(/mod_tls/);
      const pure = launch('pure-ftpd', peers['pure-ftpd'], { ...o, tls: tlsFiles }).argv;
      expect(pure.slice(-4)).toEqual(['-Y', '1', '-2', '/run/t/cert.pem,/run/t/key.pem']);
      expect(launch('pure-ftpd', peers['pure-ftpd'], o).argv).not.toContain('-Y');
      expect(launch('pyftpdlib', peers.pyftpdlib, { ...o, tls: tlsFiles }).argv.slice(-3)).toEqual(['elr', tlsFiles.cert, tlsFiles.key]);
      const mux = launch('muxftpd', peers.muxftpd, { ...o, tls: tlsFiles }).argv;
      expect(mux.slice(mux.indexOf('--tls-cert'), mux.indexOf('--tls-cert') + 4))
        .toEqual(['--tls-cert', tlsFiles.cert, '--tls-key', tlsFiles.key]);
      expect(launch('muxftpd', peers.muxftpd, o).argv).not.toContain('--tls-cert');
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('the handshake limit and the TLS section of results.md', () => {
  const speed = [
    'Doing 256 bits sign ecdsa\'s for 2s: 79000 256 bits ECDSA signs in 2.00s',
    '                              sign    verify    sign/s verify/s',
    ' 256 bits ecdsa (nistp256)   0.0000s   0.0001s  39500.5  14625.5',
  ].join('\n');
  it('reads openssl speed’s P-256 line', () => {
    expect(parseSpeed(speed)).toEqual({ signPerSec: 39500.5, verifyPerSec: 14625.5 });
    expect(parseSpeed('no such line')).toBeNull();
  });
  const cell = (server: string, scenario: string, ops: number, cores: number, full: number, mb = 0): Cell => ({
    server, scenario, failure: null, argv: [], round: 0, cpu: { boxBusyPct: 90, serverCores: cores, clientCores: 0.5 },
    report: {
      ...buildReport(summary({ ops, elapsed_s: 1, bytes: mb * 1e6, tls: tlsOf(full, ops, ops) })),
      scenario,
    },
  });
  const result: CompareResult = {
    date: '2026-12-06T22:00:00Z', command: 'npm run bench:compare -- --scenarios tls', machine: { nproc: '2' },
    settings: { rounds: 1 },
    servers: [{ name: 'vsftpd', version: '3', installed: true, note: '' }, { name: 'pyftpdlib', version: '1', installed: true, note: '' }],
    scenarios: selectScenarios(['tls-login', 'tls-stream']),
    cells: [cell('vsftpd', 'tls-login', 40, 1, 40), cell('pyftpdlib', 'tls-login', 800, 0.8, 800),
      cell('vsftpd', 'tls-stream', 1, 0.5, 1, 500), cell('pyftpdlib', 'tls-stream', 1, 1, 1, 250)],
    tls: { version: '1.3', cert: 'openssl req -x509 -newkey ec ...', signLimit: { command: 'openssl speed -seconds 2 ecdsap256', signPerSec: 40000, verifyPerSec: 14000, library: 'OpenSSL 3.0.x' } },
  };
  it('gives server CPU per operation (per MB for a stream) and full handshakes per server core', () => {
    const login = sc('tls-login');
    expect(cpuPerOp(result.cells[0], login)).toBe(25000);
    expect(cpuPerOp(result.cells[1], login)).toBe(1000);
    expect(cpuPerOp(result.cells[2], sc('tls-stream'))).toBe(1000);
    expect(handshakesPerCore(result.cells[1])).toBe(1000);
    expect(cpuPerOp({ ...result.cells[0] as Cell, cpu: undefined }, login)).toBeNull();
  });
  it('writes them beside the signature limit', () => {
    const md = formatMarkdown(result);
    expect(md).toMatch(/## TLS rows: server CPU per operation, and the handshake limit/);
    expect(md).toMatch(/`openssl speed -seconds 2 ecdsap256` \(OpenSSL 3\.0\.x\): 40000 P-256 signatures\/s on one core/);
    expect(md).toMatch(/^\| tls-login \| 25000 \| 1000 \|$/m);
    expect(md).toMatch(/^\| tls-stream \| 1000 \| 4000 \|$/m);
    expect(md).toMatch(/^\| full handshakes\/s per server core .*\| 40 \(0%\) \| 1000 \(3%\) \|$/m);
    expect(formatTerminal(result)).toMatch(/full handshakes\/s per server core \(tls-login\): vsftpd 40, pyftpdlib 1000; limit 40000/);
  });
});
