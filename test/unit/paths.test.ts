import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FtpError } from '../../src/errors.js';
import { joinVirtual, relativeOf, resolveFile, resolvePath } from '../../src/vfs/paths.js';

describe('joinVirtual', () => {
  it('joins a relative argument to the cwd', () => {
    expect(joinVirtual('/a', 'b/c')).toBe('/a/b/c');
  });

  it('takes an absolute argument as is', () => {
    expect(joinVirtual('/a', '/x/y')).toBe('/x/y');
  });

  it('never goes above / with ..', () => {
    expect(joinVirtual('/', '..')).toBe('/');
    expect(joinVirtual('/a', '../../../etc/passwd')).toBe('/etc/passwd');
    expect(joinVirtual('/a/b', '..')).toBe('/a');
  });

  it('drops . and empty segments', () => {
    expect(joinVirtual('/a', './/b/./')).toBe('/a/b');
  });

  it('treats encoded or foreign separators as plain name characters', () => {
    expect(joinVirtual('/', '..%2F..%2Fetc')).toBe('/..%2F..%2Fetc');
    expect(joinVirtual('/', '..\\..\\etc')).toBe('/..\\..\\etc');
  });

  it('refuses NUL with 501', () => {
    expect(() => joinVirtual('/', 'a\0b')).toThrow(expect.objectContaining({ code: 501 }));
  });

  it('takes a plain name in / the short way, with the same result', () => {
    expect(joinVirtual('/', 'small.bin')).toBe('/small.bin');
    expect(joinVirtual('/', '...')).toBe('/...');
    expect(joinVirtual('/', ' a ')).toBe('/ a ');
    expect(joinVirtual('/', '.')).toBe('/');
    expect(joinVirtual('/', '')).toBe('/');
    expect(() => joinVirtual('/', '\0')).toThrow(expect.objectContaining({ code: 501 }));
  });

  it('maps virtual paths to engine paths', () => {
    expect(relativeOf('/')).toBe('.');
    expect(relativeOf('/a/b')).toBe('a/b');
  });
});

describe('resolvePath', () => {
  let base: string;
  let root: string;

  beforeAll(async () => {
    base = await realpath(await mkdtemp(path.join(os.tmpdir(), 'muxftpd-paths-')));
    root = path.join(base, 'root');
    await mkdir(path.join(root, 'dir'), { recursive: true });
    await mkdir(path.join(base, 'outside'));
    await writeFile(path.join(root, 'dir', 'file.txt'), 'hello');
    await writeFile(path.join(base, 'outside', 'secret.txt'), 'secret');
    await symlink(path.join(base, 'outside'), path.join(root, 'out'));
    await symlink(path.join(base, 'outside', 'secret.txt'), path.join(root, 'secret-link'));
    await symlink('dir/file.txt', path.join(root, 'in-link'));
  });

  afterAll(async () => {
    await rm(base, { recursive: true, force: true });
  });

  const code = async (p: Promise<unknown>) => {
    const e = await p.then(() => undefined, (err: unknown) => err);
    return e instanceof FtpError ? e.code : e;
  };

  it('resolves a file relative to the cwd', async () => {
    expect(await resolvePath(root, '/dir', 'file.txt')).toEqual({
      virtual: '/dir/file.txt',
      rel: 'dir/file.txt',
      real: path.join(root, 'dir', 'file.txt'),
    });
  });

  it('resolves the root itself', async () => {
    expect(await resolvePath(root, '/dir', '..')).toEqual({ virtual: '/', rel: '.', real: root });
  });

  it('refuses a missing file with 550', async () => {
    expect(await code(resolvePath(root, '/', 'nope.txt'))).toBe(550);
  });

  it('refuses a symlink to a directory outside the root with 550', async () => {
    expect(await code(resolvePath(root, '/', 'out/secret.txt'))).toBe(550);
    expect(await code(resolvePath(root, '/', 'out'))).toBe(550);
  });

  it('refuses a symlink to a file outside the root with 550', async () => {
    expect(await code(resolvePath(root, '/', 'secret-link'))).toBe(550);
  });

  it('follows a symlink that stays inside the root', async () => {
    const r = await resolvePath(root, '/', 'in-link');
    expect(r.rel).toBe('in-link');
    expect(r.real).toBe(path.join(root, 'dir', 'file.txt'));
  });

  it('accepts a missing target under an existing parent when asked (uploads)', async () => {
    const r = await resolvePath(root, '/dir', 'new.txt', true);
    expect(r).toEqual({ virtual: '/dir/new.txt', rel: 'dir/new.txt', real: path.join(root, 'dir', 'new.txt') });
  });

  it('refuses a missing target whose parent is missing or outside', async () => {
    expect(await code(resolvePath(root, '/', 'nodir/new.txt', true))).toBe(550);
    expect(await code(resolvePath(root, '/', 'out/new.txt', true))).toBe(550);
  });

  it('resolveFile refuses a directory with 550', async () => {
    expect(await code(resolveFile(root, '/', 'dir'))).toBe(550);
    expect((await resolveFile(root, '/', 'dir/file.txt')).stats.size).toBe(5);
  });
});
