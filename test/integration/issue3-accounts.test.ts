// Accounts from --users with --no-anonymous: a wrong password and an unknown
// name get the same 530 (after --login-fail-delay); the failure that reaches
// --max-login-failures gets 421 and the connection closes; an account sees
// its home as '/', cannot leave it, and writes only when its line says rw.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../src/auth/password.js';
import { DataChannel, FtpControl, retrieve } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

const dir = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-users-'));
const usersFile = path.join(dir, 'users');
await writeFile(
  usersFile,
  [
    '# name:hash:home:access',
    `alice:${await hashPassword('alice pw')}:/sub:rw`,
    `bob:${await hashPassword('bob pw')}:/:ro`,
    '',
  ].join('\n'),
);

const srv = useServer({ users: usersFile, noAnonymous: true, loginFailDelay: 50, maxLoginFailures: 3 });

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function login(user: string, password: string): Promise<FtpControl> {
  const ctl = await FtpControl.connect(srv.host, srv.port);
  await ctl.expect(`USER ${user}`, 331);
  await ctl.expect(`PASS ${password}`, 230);
  await ctl.expect('TYPE I', 200);
  return ctl;
}

describe('accounts', () => {
  it('a wrong password, an unknown name and anonymous all get the same 530; the 3rd failure gets 421 and a close', async () => {
    const ctl = await FtpControl.connect(srv.host, srv.port);
    try {
      const replies = [];
      for (const [user, password] of [['bob', 'wrong'], ['nobody', 'bob pw']]) {
        await ctl.expect(`USER ${user}`, 331);
        replies.push(await ctl.cmd(`PASS ${password}`));
      }
      expect(replies.map((r) => r.lines)).toEqual([['530 Login incorrect.'], ['530 Login incorrect.']]);
      expect((await ctl.cmd('PWD')).code).toBe(530);
      await ctl.expect('USER anonymous', 331);
      expect((await ctl.cmd('PASS guest@example.com')).code).toBe(421);
      await ctl.waitClosed();
    } finally {
      ctl.destroy();
    }
  });

  it('alice sees /sub as /, cannot climb out, and may upload (rw)', async () => {
    const ctl = await login('alice', 'alice pw');
    try {
      expect((await ctl.cmd('PWD')).text).toMatch(/^"\/"/);
      await ctl.expect('CWD ..', 250);
      expect((await ctl.cmd('PWD')).text).toMatch(/^"\/"/);
      const got = await retrieve(ctl, 'EPSV', '/dir/nested.txt');
      expect(got.sha256).toBe(srv.files.nested.sha256);
      expect((await retrieve(ctl, 'EPSV', '/hello.txt')).prelim.code).toBe(550);
      const channel = await DataChannel.open(ctl, 'EPSV');
      expect((await ctl.cmd('STOR /from-alice.txt')).code).toBe(150);
      (await channel.connected).end('alice was here');
      expect((await ctl.reply()).code).toBe(226);
      expect(await readFile(path.join(srv.root, 'sub', 'from-alice.txt'), 'utf8')).toBe('alice was here');
    } finally {
      ctl.destroy();
    }
  });

  it('bob sees the whole root read-only (ro)', async () => {
    const ctl = await login('bob', 'bob pw');
    try {
      expect((await retrieve(ctl, 'EPSV', '/hello.txt')).sha256).toBe(srv.files.hello.sha256);
      expect((await ctl.cmd('MKD /bobs')).code).toBe(550);
      expect((await ctl.cmd('DELE /hello.txt')).code).toBe(550);
    } finally {
      ctl.destroy();
    }
  });
});
