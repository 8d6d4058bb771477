// How bench:compare sizes each load and starts each server: pure functions of
// bench/matrix/ (scenarios, plan) and bench/peers/ (no server is started here).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ftploadArgs } from '../../bench/client/ftpload.js';
import { type CompareSettings, planLoad, planRuns } from '../../bench/matrix/plan.js';
import {
  matrixScenarios,
  passivePorts,
  passiveSources,
  selectableScenarios,
  selectScenarios,
} from '../../bench/matrix/scenarios.js';
import { launch } from '../../bench/peers/servers.js';
import { pasvRange, peers } from '../../bench/peers/table.js';
import { fillIn } from '../../bench/peers/templates.js';

const settings: CompareSettings = {
  duration: 10, idleSessions: 19000, peerIdleSessions: 5000, idleDuration: 60, passiveSessions: 5000, passiveDuration: 60,
  largeMiB: 1024, clientThreads: 1, processes: 1, mode: 'epsv', root: '/tmp/r',
};
const sc = (name: string) => {
  const s = matrixScenarios.find((m) => m.name === name);
  if (!s) throw new Error(`no ${name}`);
  return s;
};
const arg = (argv: string[], flag: string): string | undefined => {
  const i = argv.indexOf(flag);
  return i >= 0 ? argv[i + 1] : undefined;
};

describe('the scenarios of a run', () => {
  it('covers the issue’s targets by default, mixed only when asked', () => {
    expect(selectScenarios().map((s) => s.name)).toEqual([
      'login-100', 'login-1000', 'small-1', 'small-100', 'small-1000', 'persistent-100', 'persistent-1000',
      'large-1', 'large-100', 'noop-1000', 'passive-5000', 'idle', 'idle-memory', 'upload-100', 'threads-1', 'threads-2',
      'tls-login', 'tls-small', 'tls-persistent', 'tls-stream', 'tls-idle', 'tls-idle-memory',
    ]);
    expect(selectScenarios(['mixed']).map((s) => s.name)).toEqual(['mixed']);
  });
  it('expands groups and brings derived rows along', () => {
    expect(selectScenarios(['scaling']).map((s) => s.name)).toEqual(['threads-1', 'threads-2']);
    expect(selectScenarios(['idle']).map((s) => s.name)).toEqual(['idle', 'idle-memory']);
    expect(selectableScenarios()).not.toContain('idle-memory');
    expect(selectableScenarios()).toContain('scaling');
  });
});

describe('planRuns', () => {
  const show = (names: string[], rounds: number): string[] =>
    planRuns(selectScenarios(names), ['muxftpd', 'vsftpd', 'pyftpdlib'] as const, rounds)
      .map((r) => `${r.sc.name}#${r.round + 1}/${r.rounds}: ${r.servers.join(' ')}`);
  it('repeats a row round after round, the servers’ order reversed every other round', () => {
    expect(show(['login-100', 'upload-100'], 3)).toEqual([
      'login-100#1/3: muxftpd vsftpd pyftpdlib', 'login-100#2/3: pyftpdlib vsftpd muxftpd', 'login-100#3/3: muxftpd vsftpd pyftpdlib',
      'upload-100#1/3: muxftpd vsftpd pyftpdlib', 'upload-100#2/3: pyftpdlib vsftpd muxftpd', 'upload-100#3/3: muxftpd vsftpd pyftpdlib',
    ]);
  });
  it('runs passive and idle once, read-only rows first and the scaling rows last, taking turns', () => {
    expect(show(['scaling', 'idle', 'passive-5000', 'small-100'], 2)).toEqual([
      'small-100#1/2: muxftpd vsftpd pyftpdlib', 'small-100#2/2: pyftpdlib vsftpd muxftpd',
      'passive-5000#1/1: muxftpd vsftpd pyftpdlib', 'idle#1/1: muxftpd vsftpd pyftpdlib',
      'threads-1#1/2: muxftpd', 'threads-2#1/2: muxftpd', 'threads-2#2/2: muxftpd', 'threads-1#2/2: muxftpd',
    ]);
  });
  it('runs the reference server (bare) only on the loads it serves: logins, small files, NOOPs', () => {
    const withBare = (names: string[]): string[] =>
      planRuns(selectScenarios(names), ['muxftpd', 'bare'] as const, 1).map((r) => `${r.sc.name}: ${r.servers.join(' ')}`);
    expect(withBare(['login-100', 'small-1000', 'persistent-100', 'noop-1000', 'large-1', 'upload-100', 'idle', 'passive-5000', 'scaling']))
      .toEqual([
        'login-100: muxftpd bare', 'small-1000: muxftpd bare', 'persistent-100: muxftpd bare', 'large-1: muxftpd',
        'noop-1000: muxftpd bare', 'passive-5000: muxftpd', 'idle: muxftpd', 'upload-100: muxftpd',
        'threads-1: muxftpd', 'threads-2: muxftpd',
      ]);
  });
});

describe('planLoad', () => {
  it('holds 19,000 idle sessions in 3 ftpload processes under a 20,000-fd limit', () => {
    const load = planLoad(sc('idle'), settings, 'muxftpd', 2210);
    expect(load).toMatchObject({ scenario: 'idle', concurrency: 19000, processes: 3, duration: 60, mode: 'epsv' });
    const shares = [0, 1, 2].map((i) => Number(arg(ftploadArgs(load, i, 3), '--concurrency')));
    expect(shares).toEqual([6334, 6333, 6333]);
    expect(Math.max(...shares)).toBeLessThan(20000 / 2);
  });
  it('asks the peers for --peer-idle-sessions idle sessions', () => {
    expect(planLoad(sc('idle'), settings, 'vsftpd', 2201)).toMatchObject({ concurrency: 5000, processes: 1 });
  });
  it('runs 5,000 passive sessions in one process (one barrier) from several source addresses', () => {
    const load = planLoad(sc('passive-5000'), settings, 'vsftpd', 2201);
    expect(load).toMatchObject({ scenario: 'passive', concurrency: 5000, processes: 1, duration: 60, source: passiveSources, file: 'small.bin' });
    expect(arg(ftploadArgs(load), '--source')).toBe('127.0.0.2-127.0.0.21');
    expect(planLoad(sc('passive-5000'), { ...settings, passiveSessions: 300 }, 'muxftpd', 2210).concurrency).toBe(300);
  });
  it('floods NOOPs with a window of 16, and passes the data mode on', () => {
    const load = planLoad(sc('noop-1000'), { ...settings, mode: 'pasv' }, 'muxftpd', 2210);
    expect(load).toMatchObject({ scenario: 'noop', concurrency: 1000, pipeline: 16, processes: 1, duration: 10, mode: 'pasv' });
    expect(arg(ftploadArgs(load), '--pipeline')).toBe('16');
    expect(arg(ftploadArgs(load), '--mode')).toBe('pasv');
    expect(ftploadArgs(planLoad(sc('small-100'), settings, 'muxftpd', 2210))).not.toContain('--pipeline');
  });
  it('sizes the rest by the scenario', () => {
    expect(planLoad(sc('persistent-1000'), settings, 'muxftpd', 2210)).toMatchObject({ concurrency: 1000, file: 'small.bin', fileLocal: '/tmp/r/small.bin' });
    expect(planLoad(sc('large-1'), settings, 'muxftpd', 2210)).toMatchObject({ concurrency: 1, file: 'large.bin' });
    expect(planLoad(sc('upload-100'), settings, 'proftpd', 2202)).toMatchObject({ concurrency: 100, uploadSize: 16 << 20, uploadPrefix: 'upload/proftpd' });
    expect(planLoad(sc('login-1000'), settings, 'muxftpd', 2210)).toMatchObject({ scenario: 'login', concurrency: 1000 });
    expect(planLoad(sc('small-1'), settings, 'muxftpd', 2210)).toMatchObject({ scenario: 'small', concurrency: 1 });
  });
});

describe('how muxftpd is started', () => {
  const base = { root: '/srv', stateDir: '/tmp/s', packageRoot: '/pkg' };
  it('passes --writable in the writable profile only', () => {
    expect(launch('muxftpd', peers.muxftpd, { ...base, writable: true }).argv).toContain('--writable');
    expect(launch('muxftpd', peers.muxftpd, { ...base, writable: false }).argv).not.toContain('--writable');
  });
  it('raises its client limits like the peers’', () => {
    const argv = launch('muxftpd', peers.muxftpd, { ...base, writable: false }).argv;
    expect(Number(arg(argv, '--clients-per-thread'))).toBeGreaterThanOrEqual(19000);
    expect(Number(arg(argv, '--max-clients'))).toBeGreaterThanOrEqual(19000);
    expect(argv).not.toContain('--threads');
  });
  it('gives passive-5000 a 1,000-port range and the scaling rows their threads; peers keep theirs', () => {
    const p = sc('passive-5000').muxftpd;
    expect(p?.pasvPorts).toBe(passivePorts);
    expect(arg(launch('muxftpd', peers.muxftpd, { ...base, writable: false, ...p }).argv, '--pasv-ports')).toBe('4000-4999');
    expect(pasvRange('muxftpd', {})).toBe('4000-9999');
    expect(pasvRange('vsftpd', { pasvPorts: 1000 })).toBe('10000-11999');
    const t1 = launch('muxftpd', peers.muxftpd, { ...base, writable: false, ...sc('threads-1').muxftpd }).argv;
    expect(arg(t1, '--threads')).toBe('1');
    expect(arg(launch('muxftpd', peers.muxftpd, { ...base, writable: false, ...sc('threads-2').muxftpd }).argv, '--threads')).toBe('2');
  });
});

describe('the peers’ config files (bench/peers/config)', () => {
  const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  it('are filled in completely, in both profiles, and say where each server writes', () => {
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'bench-peers-'));
    try {
      for (const name of ['vsftpd', 'proftpd', 'pyftpdlib', 'ftp-srv'] as const) {
        for (const writable of [false, true]) {
          const l = launch(name, peers[name], { root: '/srv', stateDir, writable, packageRoot });
          const files = Object.entries(l.files);
          expect(files).toHaveLength(1);
          for (const [file, text] of files) {
            expect(text).not.toMatch(/\{\{/);
            expect(l.argv).toContain(path.join(stateDir, file));
          }
        }
      }
      const vsftpd = (writable: boolean): string =>
        launch('vsftpd', peers.vsftpd, { root: '/srv', stateDir, writable, packageRoot }).files['vsftpd.conf'] ?? '';
      expect(vsftpd(true)).toMatch(/^anon_upload_enable=YES$/m);
      expect(vsftpd(false)).toMatch(/^anon_upload_enable=NO$/m);
      expect(vsftpd(false)).toMatch(/^listen_port=2201$/m);
      const proftpd = launch('proftpd', peers.proftpd, { root: '/srv', stateDir, writable: true, packageRoot }).files['proftpd.conf'];
      expect(proftpd).toMatch(/<Directory upload>/);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
  it('name a placeholder left without a value', () => {
    expect(() => fillIn('port {{PORT}} {{NOPE}}', { PORT: '21' }, 'x.conf')).toThrow('x.conf: no value for {{NOPE}}');
  });
});
