// --processes 2: two server processes share the port (SO_REUSEPORT). Each
// session is served by one of them from its first reply to its last (data
// connections included, on that process's slice of the passive range); the
// stats and the metrics are the sums; custom commands given by specifier run
// in both; failed logins count per address over both; the xferlog holds
// whole lines of both; SIGTERM drains both and exits 0; a server process
// that dies stops the whole server with a non-zero exit.
import { readdirSync, readFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeUsersFile } from './helpers/accounts.js';
import { eventually, FtpControl, retrieve } from './helpers/clients.js';
import { cli, ensureBuilt, startCliAt } from './helpers/cli.js';
import { startServer } from '../../src/index.js';
import { testDefaults, testLog, useServer } from './helpers/server.js';

const commands = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures', 'process-commands.mjs');
const xferlog = path.join(os.tmpdir(), `muxftpd-processes-${process.pid}.xferlog`);
// Passive ports above Linux's ephemeral range (32768-60999) and above those of
// limits.test.ts (61000-64999), so that no other connection holds one.
const pasvMin = 65_000 + Math.floor(Math.random() * 25) * 20;
const pasvMid = pasvMin + 9;
const pasvMax = pasvMin + 19;
const failureCap = 3;
const users = await writeUsersFile([{ name: 'carol', password: 'carol pw' }]);
const srv = useServer({
  processes: 2,
  threads: 1,
  commands,
  pasvPorts: `${pasvMin}-${pasvMax}`,
  metricsPort: 0,
  xferlog,
  users: users.path,
  loginFailDelay: 0,
  maxLoginFailures: 0,
  maxLoginFailuresPerIp: failureCap,
  loginFailureWindow: 3600,
});
afterAll(async () => {
  await rm(xferlog, { force: true });
  await users.remove();
});

/**
 * Fresh sessions until both server processes of `port` have one (bounded):
 * pid → session. A session turned away (a limit not yet freed by one just
 * closed) is tried again.
 */
async function oneOnEach(port = srv.port): Promise<Map<string, FtpControl>> {
  const found = new Map<string, FtpControl>();
  for (let i = 0; i < 64 && found.size < 2; i++) {
    const ctl = await FtpControl.open(srv.host, port);
    if ((await ctl.reply()).code !== 220) {
      ctl.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    const pid = (await ctl.cmd('SITE PID')).lines[0]?.split(' ').pop() ?? '';
    if (found.has(pid)) ctl.destroy();
    else found.set(pid, ctl);
  }
  expect(found.size, 'sessions reached two processes').toBe(2);
  return found;
}

describe('--processes 2', () => {
  it('serves from both processes, each session whole on one, its passive port in that process slice', async () => {
    const sessions = await oneOnEach();
    try {
      const ports = new Map<string, number>();
      for (const [pid, ctl] of sessions) {
        await ctl.expect('USER anonymous', 331);
        await ctl.expect('PASS x', 230);
        await ctl.expect('TYPE I', 200);
        const pasv = await ctl.cmd('EPSV');
        expect(pasv.code).toBe(229);
        ports.set(pid, Number(/\|\|\|(\d+)\|/.exec(pasv.lines[0] ?? '')?.[1]));
        await ctl.expect('ABOR', 225);
        const got = await retrieve(ctl, 'PASV', srv.files.mib1.path);
        expect(got.final?.code).toBe(226);
        expect(got.sha256).toBe(srv.files.mib1.sha256);
        // Still the same process.
        expect((await ctl.cmd('SITE PID')).lines[0]).toBe(`200 pid ${pid}`);
      }
      // Each process has its half of the range: their ports are in different halves.
      const halves = new Set([...ports.values()].map((p) => (p <= pasvMid ? 'low' : 'high')));
      expect([...ports.values()].every((p) => p >= pasvMin && p <= pasvMax)).toBe(true);
      expect(halves.size).toBe(2);
    } finally {
      for (const ctl of sessions.values()) ctl.destroy();
    }
  });

  it('a custom command that throws answers 451 in its session only', async () => {
    const sessions = await oneOnEach();
    try {
      const [first, second] = [...sessions.values()];
      expect((await first?.cmd('SITE BOOM'))?.code).toBe(451);
      expect((await first?.cmd('SITE PID'))?.code).toBe(200);
      expect((await second?.cmd('NOOP'))?.code).toBe(200);
    } finally {
      for (const ctl of sessions.values()) ctl.destroy();
    }
  });

  it("failed logins count per address over both processes: the cap reached in one refuses the other's login", async () => {
    const sessions = await oneOnEach();
    try {
      const [first, second] = [...sessions.values()];
      if (first === undefined || second === undefined) throw new Error('two sessions expected');
      for (let i = 1; i <= failureCap; i++) {
        await first.expect('USER carol', 331);
        await first.expect(`PASS wrong ${i}`, i < failureCap ? 530 : 421);
      }
      // The other process has heard of them: the right password is refused unchecked.
      await second.expect('USER carol', 331);
      await second.expect('PASS carol pw', 421);
    } finally {
      for (const ctl of sessions.values()) ctl.destroy();
    }
  });

  it('stats() and the metrics endpoint carry the totals of both processes', async () => {
    const before = await srv.server.stats();
    const n = 12;
    for (let i = 0; i < n; i++) {
      const ctl = await FtpControl.login(srv.host, srv.port);
      const got = await retrieve(ctl, 'EPSV', srv.files.hello.path);
      expect(got.final?.code).toBe(226);
      await ctl.expect('QUIT', 221);
      ctl.destroy();
    }
    expect(await eventually(async () => (await srv.server.stats()).sessions === 0, 5_000)).toBe(true);
    const after = await srv.server.stats();
    expect(after.sessionsTotal - before.sessionsTotal).toBe(n);
    expect(after.transfers.ok - before.transfers.ok).toBe(n);
    expect(after.loops).toHaveLength(2);
    const text = await (await fetch(`http://127.0.0.1:${srv.server.metrics?.port}/metrics`)).text();
    expect(Number(/^muxftpd_sessions_total (\d+)$/m.exec(text)?.[1])).toBe(after.sessionsTotal);
    // The xferlog: one whole line per transfer, from both processes.
    await eventually(async () => (await readFile(xferlog, 'utf8')).split('\n').filter(Boolean).length >= after.transfers.ok, 5_000);
    const lines = (await readFile(xferlog, 'utf8')).split('\n').filter(Boolean);
    expect(lines.every((l) => / \/(hello\.txt|1mib\.bin) b _ o a /.test(l)), lines.join('\n')).toBe(true);
  });
});

describe('limits over both processes (one client ledger in shared memory)', () => {
  it.each([
    ['--max-clients 2', { maxClients: 2 }, '421 Too many connections; try again later.'],
    ['--max-per-ip 2', { maxPerIp: 2 }, '421 Too many connections from your address; try again later.'],
  ])('%s: with one client on each process, a third is turned away by either', async (_what, limit, refusal) => {
    const server = await startServer({ ...testDefaults, ...limit, processes: 2, threads: 1, commands, host: srv.host, port: 0, root: srv.root, log: testLog() });
    try {
      const sessions = await oneOnEach(server.address.port);
      try {
        // Settled: the sessions given up on the way are released.
        expect(await eventually(async () => (await server.stats()).sessions === 2, 5_000)).toBe(true);
        for (let i = 0; i < 4; i++) {
          const extra = await FtpControl.open(srv.host, server.address.port);
          expect((await extra.reply()).lines).toEqual([refusal]);
          await extra.waitClosed();
          extra.destroy();
        }
      } finally {
        for (const ctl of sessions.values()) ctl.destroy();
      }
    } finally {
      await server.close();
    }
  });
});

describe('the CLI with --processes 2', () => {
  it('SIGTERM drains both processes and exits 0; their pids are gone', async () => {
    const { proc, port } = await startCli();
    const ctl = await FtpControl.login('127.0.0.1', port);
    const got = await retrieve(ctl, 'EPSV', srv.files.hello.path);
    expect(got.final?.code).toBe(226);
    const children = childPids(proc.child.pid);
    expect(children).toHaveLength(2);
    proc.child.kill('SIGTERM');
    // The idle session is told 421 as the drain ends.
    expect((await ctl.reply()).code).toBe(421);
    ctl.destroy();
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    expect(children.filter(alive)).toEqual([]);
  });

  it('a server process that dies stops the whole server with a non-zero exit', async () => {
    const { proc, port } = await startCli();
    const children = childPids(proc.child.pid);
    expect(children).toHaveLength(2);
    process.kill(Number(children[0]), 'SIGKILL');
    const ended = await proc.exited;
    expect(ended.code, proc.stderr()).toBe(1);
    expect(proc.stderr()).toMatch(/server process \d \(pid \d+\) ended \(signal SIGKILL\); the server stops/);
    expect(children.filter(alive)).toEqual([]);
    await expect(FtpControl.connect('127.0.0.1', port, 1_000)).rejects.toThrow();
  });
});

/** The pids whose parent is `pid`, from /proc (field 4 of stat, after the parenthesized name). */
/** The CLI with two server processes, once it has said it listens (both are up). */
async function startCli(): Promise<Awaited<ReturnType<typeof startCliAt>>> {
  await ensureBuilt();
  const started = await startCliAt(cli, ['--processes', '2', '--threads', '1', '--root', srv.root, '--log-level', 'warn'], process.env);
  expect(await eventually(() => started.proc.stdout().toString().includes('listening on'), 20_000)).toBe(true);
  return started;
}

function childPids(pid: number | undefined): string[] {
  const children: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] === String(pid)) children.push(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}

function alive(pid: string): boolean {
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
}
