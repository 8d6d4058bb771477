import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAccounts, parseLine } from '../../src/auth/accounts.js';
import { printPasswordHash } from '../../src/auth/hash-command.js';
import { PasswordPool } from '../../src/auth/password-pool.js';
import { hashPassword, parseHash } from '../../src/auth/password.js';

let dir = '';
let root = '';
let hash = '';

beforeAll(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), 'muxftpd-accounts-')));
  root = path.join(dir, 'root');
  await mkdir(path.join(root, 'home', 'alice'), { recursive: true });
  await writeFile(path.join(root, 'file'), '');
  await symlink('home/alice', path.join(root, 'linked'));
  hash = await hashPassword('s3cret: with spaces');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(lines: string[]): Promise<ReturnType<typeof loadAccounts>> {
  const file = path.join(dir, 'users');
  await writeFile(file, lines.join('\n'));
  return loadAccounts(file, root);
}

describe('passwords', () => {
  const pool = new PasswordPool(1, 10);
  afterAll(() => pool.close());

  it('round-trips through the stored form; a wrong password fails', async () => {
    const parsed = parseHash(hash);
    expect(parsed).toBeDefined();
    if (parsed === undefined) return;
    expect(await pool.check('s3cret: with spaces', parsed)).toBe('match');
    expect(await pool.check('s3cret', parsed)).toBe('mismatch');
  });

  it('refuses hashes it did not write', () => {
    for (const bad of ['', 'plain', '$2b$10$abcdefghijklmnopqrstuv', hash.replace('scrypt$16384', 'scrypt$1000')]) {
      expect(parseHash(bad)).toBeUndefined();
    }
  });

  it('--hash-password prints a hash of the first line of stdin', async () => {
    const input = new PassThrough();
    const output = new PassThrough();
    input.end('pw from stdin\nignored\n');
    await printPasswordHash(input, output);
    const printed = parseHash(String(output.read()).trim());
    expect(printed !== undefined && (await pool.check('pw from stdin', printed))).toBe('match');
  });
});

describe('the accounts file', () => {
  it('parses name:hash:home:ro|rw, skipping blank and # lines', async () => {
    const accounts = await load(['# comment', '', `alice:${hash}:/home/alice/:rw`, `bob:${hash}:/:ro`]);
    expect(accounts.get('alice')).toMatchObject({ home: '/home/alice', writable: true });
    expect(accounts.get('bob')).toMatchObject({ home: '/', writable: false });
  });

  it.each([
    ['a missing field', `alice:${hash}:/`, /line 1: needs 4 fields/],
    ['a bad hash', 'alice:plaintext:/:rw', /line 1: the hash/],
    ['a relative home', `alice:${hash}:home:rw`, /absolute/],
    ['a bad access', `alice:${hash}:/:admin`, /ro or rw/],
    ['a missing home', `alice:${hash}:/nope:rw`, /does not exist/],
    ['a home that is a file', `alice:${hash}:/file:rw`, /not a directory/],
    ['a home through a symlink', `alice:${hash}:/linked:rw`, /symbolic link/],
  ])('refuses %s with MUXFTPD_ERR_BAD_USERS', async (_what, line, message) => {
    await expect(load([line])).rejects.toMatchObject({ code: 'MUXFTPD_ERR_BAD_USERS', message });
  });

  it('refuses a name given twice and an unreadable file', async () => {
    await expect(load([`a:${hash}:/:ro`, `a:${hash}:/:rw`])).rejects.toMatchObject({ message: /line 2: account a appears twice/ });
    await expect(loadAccounts(path.join(dir, 'missing'), root)).rejects.toMatchObject({ code: 'MUXFTPD_ERR_BAD_USERS' });
  });

  it('parseLine keeps names printable', () => {
    expect(parseLine(`two words:${hash}:/:ro`)).toMatch(/printable/);
  });
});
