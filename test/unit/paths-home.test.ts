// Path mapping for a session confined to its account's home, and entries
// resolved without following their last component.
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FtpError } from '../../src/errors.js';
import { resolveEntry, resolvePath } from '../../src/vfs/paths.js';

let root = '';

beforeAll(async () => {
  root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'muxftpd-home-')));
  await mkdir(path.join(root, 'home', 'alice', 'docs'), { recursive: true });
  await writeFile(path.join(root, 'top.txt'), '');
  await symlink('../../top.txt', path.join(root, 'home', 'alice', 'up-link'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const code = (p: Promise<unknown>) => p.then(() => 0, (e: unknown) => (e instanceof FtpError ? e.code : -1));

describe('a home inside the root', () => {
  it("maps the session's / to the home, and .. stops there", async () => {
    const home = '/home/alice';
    expect(await resolvePath(root, '/', 'docs', false, home)).toEqual({
      virtual: '/docs',
      rel: 'home/alice/docs',
      real: path.join(root, 'home/alice/docs'),
    });
    expect((await resolvePath(root, '/docs', '../../..', false, home)).real).toBe(path.join(root, 'home/alice'));
  });

  it('refuses a symlink that leads out of the home, though not out of the root', async () => {
    expect(await code(resolvePath(root, '/', 'up-link', false, '/home/alice'))).toBe(550);
    expect(await code(resolvePath(root, '/home/alice', 'up-link'))).toBe(0);
  });

  it('resolves a missing upload target under the home', async () => {
    const r = await resolvePath(root, '/docs', 'new.bin', true, '/home/alice');
    expect(r.rel).toBe('home/alice/docs/new.bin');
  });
});

describe('resolveEntry', () => {
  it('names the link itself, not its target, and refuses /', async () => {
    const r = await resolveEntry(root, '/', 'up-link', '/home/alice');
    expect(r.real).toBe(path.join(root, 'home/alice/up-link'));
    expect(await code(resolveEntry(root, '/', '/', '/home/alice'))).toBe(550);
    expect(await code(resolveEntry(root, '/', 'missing-dir/x'))).toBe(550);
  });
});
