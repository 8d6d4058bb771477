// Packaging: the output of `npm pack` installs into an empty folder from the
// npm cache (--prefer-offline) with the addon taken from prebuilds/ (built
// first, in a copy of the tree, when missing), so no compiler is needed for
// it; the installed muxftpd then starts, serves its FTP_FILES and stops.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { describeRun, FtpControl, killChild, killChildren, retrieve, run, type Tracked, withTimeout } from './helpers/clients.js';
import { ensureBuilt, repo, startCliAt } from './helpers/cli.js';

let dir = '';
const procs: Tracked[] = [];

afterAll(async () => {
  for (const p of procs) killChild(p.child);
  killChildren();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

/** A prebuild newer than every native source (a stale one from an older checkout is rebuilt). */
const hasPrebuild = () => {
  const at = path.join(repo, 'prebuilds', `${process.platform}-${process.arch}`);
  const built = existsSync(at) ? readdirSync(at).filter((f) => f.endsWith('.node')) : [];
  if (built.length === 0) return false;
  const builtMs = Math.min(...built.map((f) => statSync(path.join(at, f)).mtimeMs));
  const sources = ['native/engine', 'native/binding'].flatMap((d) => readdirSync(path.join(repo, d)).map((f) => path.join(repo, d, f)));
  return sources.every((f) => statSync(f).mtimeMs <= builtMs);
};

describe('npm pack', () => {
  // Without a prebuild, node-gyp builds one first.
  it.skipIf(!hasPrebuild() && missing('make', 'g++', 'python3'))('installs into an empty folder with the prebuild, and starts', { timeout: 600_000 }, async () => {
    await ensureBuilt();
    if (!hasPrebuild()) {
      const r = await run('bash', [path.join(repo, 'scripts', 'prebuild.sh')], { cwd: repo, timeoutMs: 480_000 });
      expect(r.code, describeRun(r)).toBe(0);
    }
    dir = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-pack-'));
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], { cwd: repo, timeoutMs: 120_000 });
    expect(packed.code, describeRun(packed)).toBe(0);
    const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
    expect(tarball).toBeDefined();
    const app = path.join(dir, 'app');
    await mkdir(app);
    const installed = await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', '--omit=dev', path.join(dir, tarball ?? '')],
      { cwd: app, timeoutMs: 300_000, env: { ...process.env, npm_config_loglevel: 'error' } },
    );
    expect(installed.code, describeRun(installed)).toBe(0);
    const pkg = path.join(app, 'node_modules', 'muxftpd');
    // The addon comes from the prebuild: nothing was compiled for it.
    expect(existsSync(path.join(pkg, 'build', 'Release', 'muxftpd.node'))).toBe(false);
    expect(existsSync(path.join(pkg, 'native', 'test'))).toBe(false);
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir() };
    const { proc, port } = await startCliAt(path.join(pkg, 'dist', 'cli.js'), ['--threads', '1'], env);
    procs.push(proc);
    const ctl = await FtpControl.login('127.0.0.1', port);
    try {
      const list = await ctl.cmd('STAT /');
      expect(list.code).toBe(213);
      const got = await retrieve(ctl, 'EPSV', '/sample-64k.bin');
      expect(got.final?.code).toBe(226);
      expect(got.bytes).toBe(64 * 1024);
    } finally {
      ctl.destroy();
    }
    killChild(proc.child, 'SIGTERM');
    expect(await withTimeout(proc.exited, 15_000, 'the installed muxftpd to stop')).toEqual({ code: 0, signal: null });
  });
});
