// An accounts file (--users) in a temp directory, for the files that test
// logins with passwords. Hashes come from the CLI's own hashPassword.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { hashPassword } from '../../../src/auth/password.js';
import { FtpControl } from './clients.js';

export interface AccountLine {
  name: string;
  password: string;
  /** Virtual home in the served root (default '/'). */
  home?: string;
  access?: 'ro' | 'rw';
}

export interface UsersFile {
  path: string;
  remove(): Promise<void>;
}

export async function writeUsersFile(accounts: readonly AccountLine[]): Promise<UsersFile> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-users-'));
  const file = path.join(dir, 'users');
  const lines = await Promise.all(accounts.map(async (a) => `${a.name}:${await hashPassword(a.password)}:${a.home ?? '/'}:${a.access ?? 'ro'}`));
  await writeFile(file, lines.join('\n') + '\n');
  return { path: file, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Connects and sends USER `name` (331); the next command is the caller's PASS. */
export async function atPassword(host: string, port: number, name: string): Promise<FtpControl> {
  const ctl = await FtpControl.connect(host, port);
  try {
    await ctl.expect(`USER ${name}`, 331);
  } catch (e) {
    ctl.destroy();
    throw e;
  }
  return ctl;
}
