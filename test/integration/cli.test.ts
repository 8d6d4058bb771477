// The built CLI (dist/cli.js) as a child process: --help lists every flag and
// exits 0; bad settings exit 2 with one line and no signal; SIGTERM stops a
// running server with exit 0 at each stage of its life (classic-level's
// shutdown tests). dist/ is built first when missing or older than src/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { settingNames, settings } from '../../src/config/settings.js';
import {
  DataChannel,
  describeRun,
  eventually,
  FtpControl,
  freePort,
  killChild,
  killChildren,
  run,
  sha256,
  start,
  type Tracked,
  withTimeout,
} from './helpers/clients.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = path.join(repo, 'dist', 'cli.js');

/** The flags the issue names; the settings table may add more, which --help must list too. */
const documentedFlags = [
  '--host',
  '--port',
  '--root',
  '--threads',
  '--clients-per-thread',
  '--max-clients',
  '--block-size',
  '--pasv-ports',
  '--pasv-address',
  '--copy',
  '--max-line',
  '--help',
];

/** A clean environment: no MUXFTPD_* variable of the caller leaks into the CLI. */
const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), LANG: 'C.UTF-8' };

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

let root = '';
const tracked: Tracked[] = [];

beforeAll(async () => {
  if (!existsSync(cli) || statSync(cli).mtimeMs < newestMtime(path.join(repo, 'src'))) {
    const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await run(process.execPath, [tsc, '-p', path.join(repo, 'tsconfig.build.json')], {
      cwd: repo,
      timeoutMs: 120_000,
    });
    if (r.code !== 0) throw new Error(`npm run build:ts failed: ${r.stdout.toString()}${describeRun(r)}`);
  }
  root = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-cli-'));
  await writeFile(path.join(root, 'hello.txt'), 'hello from the cli\n');
  await writeFile(path.join(root, 'big.bin'), Buffer.alloc(8 * 1024 * 1024, 7));
}, 180_000);

afterEach(() => {
  for (const t of tracked.splice(0)) killChild(t.child);
});

afterAll(async () => {
  killChildren();
  if (root !== '') await rm(root, { recursive: true, force: true });
});

function runCli(args: readonly string[], timeoutMs = 15_000) {
  return run(process.execPath, [cli, ...args], { env, timeoutMs });
}

/** Starts the CLI serving `root` on a free loopback port and waits until it greets. */
async function startCli(extra: readonly string[] = []): Promise<{ proc: Tracked; port: number }> {
  const port = await freePort();
  const proc = start(process.execPath, [cli, '--host', '127.0.0.1', '--port', String(port), '--root', root, '--threads', '2', ...extra], {
    env,
  });
  tracked.push(proc);
  let exitedEarly = false;
  void proc.exited.then(() => (exitedEarly = true));
  const up = await eventually(async () => {
    if (exitedEarly) return true;
    try {
      const ctl = await FtpControl.connect('127.0.0.1', port, 1_000);
      ctl.destroy();
      return true;
    } catch {
      return false;
    }
  }, 15_000, 100);
  if (!up || exitedEarly) throw new Error(`the CLI did not come up on port ${port}: ${proc.stderr()}`);
  return { proc, port };
}

/** Sends `signal` by pid and waits (bounded) for the exit. */
async function stop(proc: Tracked, signal: NodeJS.Signals = 'SIGTERM') {
  killChild(proc.child, signal);
  return withTimeout(proc.exited, 15_000, `the CLI to exit after ${signal}`);
}

/** Exit 2, no signal, and exactly one line on stderr that names the flag. */
function expectOneLineError(r: Awaited<ReturnType<typeof runCli>>, flag: string): void {
  expect(r.signal, describeRun(r)).toBeNull();
  expect(r.timedOut).toBe(false);
  expect(r.code, describeRun(r)).toBe(2);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toContain(flag);
  expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
}

describe('muxftpd --help', () => {
  it('exits 0 and lists every flag', async () => {
    const r = await runCli(['--help']);
    expect(r.signal).toBeNull();
    expect(r.code, describeRun(r)).toBe(0);
    const out = r.stdout.toString();
    for (const flag of documentedFlags) expect(out).toContain(flag);
    for (const name of settingNames) expect(out).toContain(settings[name].flag);
  });

  it('-h is --help', async () => {
    const r = await runCli(['-h']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.toString()).toContain('--port');
  });
});

describe('bad settings exit 2 with one line', () => {
  it.each([
    ['a port over 65535', ['--port', '70000'], '--port'],
    ['a port that is not a number', ['--port', 'abc'], '--port'],
    ['a negative port', ['--port', '-1'], '--port'],
    ['a missing root', ['--root', '/nonexistent/muxftpd/root'], '--root'],
    ['a root that is a file', ['--root', '/etc/passwd'], '--root'],
    ['a reversed pasv range', ['--pasv-ports', '50010-50000'], '--pasv-ports'],
    ['a pasv range that is not MIN-MAX', ['--pasv-ports', '50000'], '--pasv-ports'],
    ['a pasv range below 1024', ['--pasv-ports', '10-20'], '--pasv-ports'],
    ['a pasv range of garbage', ['--pasv-ports', 'a-b'], '--pasv-ports'],
    ['zero threads', ['--threads', '0'], '--threads'],
    ['a bad copy mode', ['--copy', 'splice'], '--copy'],
    ['a bad host', ['--host', 'not-an-ip'], '--host'],
    ['a bad pasv address', ['--pasv-address', '::1'], '--pasv-address'],
    ['a block size of garbage', ['--block-size', 'huge'], '--block-size'],
    ['a max line too small', ['--max-line', '10'], '--max-line'],
    ['an unknown flag', ['--frobnicate', '1'], '--frobnicate'],
  ])('%s', async (_what, args, flag) => {
    // Every other setting valid, so that the one bad value is the only reason to fail.
    const valid: Record<string, string> = { '--host': '127.0.0.1', '--port': '0', '--root': root };
    const base = Object.entries(valid).filter(([f]) => !args.includes(f)).flat();
    const r = await runCli([...base, ...args]);
    expectOneLineError(r, flag);
  });

  it('a port already in use fails to start: non-zero exit, no signal, one line', async () => {
    const { proc, port } = await startCli();
    const r = await runCli(['--host', '127.0.0.1', '--port', String(port), '--root', root]);
    expect(r.signal, describeRun(r)).toBeNull();
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(r.stderr.split('\n').filter((l) => l.trim() !== '')).toHaveLength(1);
    const end = await stop(proc);
    expect(end).toEqual({ code: 0, signal: null });
  });
});

describe('SIGTERM stops a running server with exit 0', () => {
  it('with no client', async () => {
    const { proc } = await startCli();
    expect(await stop(proc)).toEqual({ code: 0, signal: null });
  });

  it('with a logged-in idle client, which gets 421 and is disconnected', async () => {
    const { proc, port } = await startCli();
    const ctl = await FtpControl.login('127.0.0.1', port);
    try {
      expect(await stop(proc)).toEqual({ code: 0, signal: null });
      expect((await ctl.reply()).code).toBe(421);
      await ctl.waitClosed(5_000);
    } finally {
      ctl.destroy();
    }
  });

  it('in the middle of a stalled download (after --drain-timeout: 426, then 421)', async () => {
    const { proc, port } = await startCli(['--block-size', '4k', '--drain-timeout', '1']);
    const ctl = await FtpControl.login('127.0.0.1', port);
    try {
      const channel = await DataChannel.open(ctl, 'EPSV');
      const socket = await channel.connected;
      socket.pause();
      ctl.send('RETR /big.bin');
      expect((await ctl.reply()).code).toBe(150);
      expect(await stop(proc)).toEqual({ code: 0, signal: null });
      expect((await ctl.reply()).code).toBe(426);
      expect((await ctl.reply()).code).toBe(421);
      socket.resume();
      const result = await channel.result(10_000);
      expect(result.bytes).toBeLessThan(8 * 1024 * 1024);
    } finally {
      ctl.destroy();
    }
  });

  it.skipIf(missing('curl'))('after serving downloads (the CLI serves --root)', async () => {
    const { proc, port } = await startCli(['--copy', 'readwrite']);
    const r = await run('curl', ['-sS', '--max-time', '10', `ftp://127.0.0.1:${port}/hello.txt`], { timeoutMs: 15_000 });
    expect(r.code, describeRun(r)).toBe(0);
    expect(sha256(r.stdout)).toBe(sha256('hello from the cli\n'));
    expect(await stop(proc)).toEqual({ code: 0, signal: null });
  });

  it('SIGINT stops it with exit 0 too', async () => {
    const { proc } = await startCli();
    expect(await stop(proc, 'SIGINT')).toEqual({ code: 0, signal: null });
  });

  it('logs short lines for people with --log-format pretty, JSON off a terminal by default', async () => {
    for (const [extra, shape] of [
      [['--log-format', 'pretty'], /^\d\d:\d\d:\d\d (ERROR|WARN |INFO |DEBUG) \S/],
      [[], /^\{"level":\d+,"time":"[^"]+",.*"msg":/],
    ] as const) {
      const { proc, port } = await startCli(['--log-level', 'debug', ...extra]);
      const ctl = await FtpControl.login('127.0.0.1', port);
      await ctl.expect('QUIT', 221);
      ctl.destroy();
      expect(await stop(proc)).toEqual({ code: 0, signal: null });
      const lines = proc.stderr().split('\n').filter((l) => l !== '');
      expect(lines.length, proc.stderr()).toBeGreaterThan(0);
      for (const line of lines) expect(line).toMatch(shape);
    }
  });
});
