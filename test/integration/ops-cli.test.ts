// The CLI as an operator runs it: --config with precedence defaults < file <
// env < flags and --print-config naming each value's source; SIGTERM drains
// (a running transfer finishes, new clients are refused); a second SIGINT
// exits at once; off a terminal stdout stays quiet; SIGHUP reopens --xferlog
// (logrotate) and stops nothing.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  DataChannel,
  describeRun,
  eventually,
  FtpControl,
  killChild,
  killChildren,
  retrieve,
  run,
  sha256,
  stalledDownload,
  type Tracked,
  withTimeout,
} from './helpers/clients.js';
import { cli, ensureBuilt, startCliAt } from './helpers/cli.js';

const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), LANG: 'C.UTF-8' };
let dir = '';
const file = Buffer.alloc(1024 * 1024, 'x');
const bigSize = 64 * 1024 * 1024;
const tracked: Tracked[] = [];

beforeAll(async () => {
  await ensureBuilt();
  dir = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-ops-'));
  await writeFile(path.join(dir, 'one.bin'), file);
  await writeFile(path.join(dir, 'small.txt'), 'small\n');
  // Sparse, and more than loopback's socket buffers hold: a reader that stops keeps its transfer running.
  await writeFile(path.join(dir, 'big.bin'), '');
  await truncate(path.join(dir, 'big.bin'), bigSize);
}, 180_000);

afterEach(() => {
  for (const t of tracked.splice(0)) killChild(t.child);
});

afterAll(async () => {
  killChildren();
  if (dir !== '') await rm(dir, { recursive: true, force: true });
});

async function startCli(args: readonly string[]) {
  const started = await startCliAt(cli, ['--root', dir, '--threads', '2', ...args], env);
  tracked.push(started.proc);
  return started;
}

describe('--config and --print-config', () => {
  it('flags win over env, which wins over the file, which wins over the defaults', async () => {
    const config = path.join(dir, 'config.json');
    await writeFile(config, JSON.stringify({ port: 1111, maxPerIp: 5, idleTimeout: 77, copy: 'readwrite' }));
    const r = await run(process.execPath, [cli, '--config', config, '--port', '3333', '--print-config'], {
      env: { ...env, MUXFTPD_PORT: '2222', MUXFTPD_MAX_PER_IP: '6' },
    });
    expect(r.code, describeRun(r)).toBe(0);
    const rows = new Map(r.stdout.toString().trim().split('\n').map((l) => [l.split(/\s+/)[0], l.split(/\s+/).slice(1)]));
    expect(rows.get('--port')).toEqual(['3333', 'flag']);
    expect(rows.get('--max-per-ip')).toEqual(['6', 'env', 'MUXFTPD_MAX_PER_IP']);
    expect(rows.get('--idle-timeout')).toEqual(['77', 'file']);
    expect(rows.get('--copy')).toEqual(['"readwrite"', 'file']);
    expect(rows.get('--login-timeout')).toEqual(['60', 'default']);
  });

  it('a bad file exits 2 with one line naming it', async () => {
    const config = path.join(dir, 'bad.json');
    await writeFile(config, JSON.stringify({ maxPerIp: -1 }));
    const r = await run(process.execPath, [cli, '--config', config, '--print-config'], { env });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--max-per-ip');
    await writeFile(config, '{ not json');
    const r2 = await run(process.execPath, [cli, '--config', config], { env });
    expect(r2.code, describeRun(r2)).toBe(2);
    expect(r2.stderr).toContain('MUXFTPD_ERR_BAD_CONFIG_FILE');
  });
});

describe('graceful shutdown', () => {
  it('SIGTERM lets a running transfer finish, refuses new clients, then exits 0', async () => {
    const { proc, port } = await startCli(['--max-rate-per-client', '512k', '--drain-timeout', '30']);
    const ctl = await FtpControl.login('127.0.0.1', port);
    try {
      const channel = await DataChannel.open(ctl, 'EPSV');
      expect((await ctl.cmd('RETR /one.bin')).code).toBe(150);
      killChild(proc.child, 'SIGTERM');
      // The listener closes at once: a new client is refused while the transfer goes on.
      const refused = await withTimeout(
        new Promise<boolean>((resolve) => {
          const check = () => {
            const s = net.connect({ host: '127.0.0.1', port });
            s.once('connect', () => {
              s.destroy();
              setTimeout(check, 50);
            });
            s.once('error', () => resolve(true));
          };
          check();
        }),
        5_000,
        'the listener to close',
      );
      expect(refused).toBe(true);
      expect((await ctl.reply(20_000)).code).toBe(226);
      expect((await ctl.reply()).code).toBe(421);
      const data = await channel.result();
      expect(data.sha256).toBe(sha256(file));
      expect(await withTimeout(proc.exited, 15_000, 'exit after the drain')).toEqual({ code: 0, signal: null });
      expect(proc.stdout().toString()).not.toContain('\x1b');
    } finally {
      ctl.destroy();
    }
  });

  it('a second SIGINT exits at once, whatever is still running', async () => {
    const { proc, port } = await startCli(['--max-rate-per-client', '4k', '--drain-timeout', '600']);
    const ctl = await FtpControl.login('127.0.0.1', port);
    try {
      await DataChannel.open(ctl, 'EPSV');
      expect((await ctl.cmd('RETR /one.bin')).code).toBe(150);
      killChild(proc.child, 'SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 200));
      killChild(proc.child, 'SIGINT');
      expect(await withTimeout(proc.exited, 5_000, 'exit after the second SIGINT')).toEqual({ code: 130, signal: null });
    } finally {
      ctl.destroy();
    }
  });
});

describe('SIGHUP', () => {
  const lines = async (f: string) => (await readFile(f, 'utf8')).split('\n').filter((l) => l !== '');

  it('reopens --xferlog after logrotate moved it; the server and a transfer running across it go on', async () => {
    const xferlog = path.join(dir, 'xfer.log');
    const rotated = `${xferlog}.1`;
    const { proc, port } = await startCli(['--xferlog', xferlog]);
    const ctl = await FtpControl.login('127.0.0.1', port);
    const across = await FtpControl.login('127.0.0.1', port);
    try {
      const before = await retrieve(ctl, 'EPSV', '/small.txt');
      expect(before.final?.code).toBe(226);
      expect(await eventually(async () => existsSync(xferlog) && (await lines(xferlog)).length === 1, 10_000)).toBe(true);
      await rename(xferlog, rotated);
      // A download held open by a reader that stopped reading: it runs across the signal.
      const channel = await stalledDownload(across, '/big.bin');
      killChild(proc.child, 'SIGHUP');
      // The reopen creates the file anew under its name.
      expect(await eventually(() => existsSync(xferlog), 10_000)).toBe(true);
      const after = await retrieve(ctl, 'EPSV', '/small.txt');
      expect(after.final?.code).toBe(226);
      (await channel.connected).resume();
      expect((await across.reply(20_000)).code).toBe(226);
      expect((await channel.result()).bytes).toBe(bigSize);
      expect(proc.child.exitCode).toBeNull();
      expect(proc.child.signalCode).toBeNull();
      expect(await eventually(async () => (await lines(xferlog)).length === 2, 10_000), (await lines(xferlog)).join('\n')).toBe(true);
      const fresh = await lines(xferlog);
      expect(fresh.filter((l) => / 6 \/small\.txt b _ o a anonymous ftp 0 \* c$/.test(l))).toHaveLength(1);
      // The transfer that ran across the signal ended after it: its line is in the new file.
      expect(fresh.filter((l) => / 67108864 \/big\.bin b _ o a anonymous ftp 0 \* c$/.test(l))).toHaveLength(1);
      expect(await lines(rotated)).toEqual([expect.stringMatching(/ 6 \/small\.txt b _ o a anonymous ftp 0 \* c$/)]);
      killChild(proc.child, 'SIGTERM');
      expect(await withTimeout(proc.exited, 15_000, 'exit after SIGTERM')).toEqual({ code: 0, signal: null });
    } finally {
      ctl.destroy();
      across.destroy();
    }
  });
});
