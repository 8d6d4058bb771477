// lftp mirrors a nested tree (spaces, UTF-8 and leading dashes in names) down
// and, the server being writable, back up with mirror -R: both copies are
// identical to their source, empty directories included.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { describeRun, lftp } from './helpers/clients.js';
import { useServer } from './helpers/server.js';
import { makeTree, treeDigest } from './helpers/tree.js';

const srv = useServer({ writable: true });
let local = '';

beforeAll(async () => {
  local = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-mirror-'));
  await makeTree(path.join(srv.root, 'tree'));
});

afterAll(async () => {
  if (local !== '') await rm(local, { recursive: true, force: true });
});

const open = () => `open -u anonymous,lftp@example.com ftp://${srv.host}:${srv.port}`;

describe.skipIf(missing('lftp'))('lftp mirror', () => {
  it.each([
    ['MLSD listings', 'set ftp:use-mlsd on'],
    ['LIST listings', 'set ftp:use-mlsd off'],
  ])('mirrors /tree down byte-identical, with %s', async (name, setting) => {
    const target = path.join(local, `down-${name.split(' ')[0]}`);
    const r = await lftp([setting, open(), `mirror /tree "${target}"`, 'bye'], { home: local, timeoutMs: 60_000 });
    expect(r.code, describeRun(r)).toBe(0);
    const expected = await treeDigest(path.join(srv.root, 'tree'));
    expect(Object.keys(expected).length).toBeGreaterThan(10);
    expect(await treeDigest(target)).toEqual(expected);
  });

  it('mirror -R uploads a tree that ends up identical on the server', async () => {
    const source = path.join(local, 'up-source');
    await makeTree(source);
    const r = await lftp([open(), `mirror -R --no-perms "${source}" /uploaded`, 'bye'], { home: local, timeoutMs: 60_000 });
    expect(r.code, describeRun(r)).toBe(0);
    expect(await treeDigest(path.join(srv.root, 'uploaded'))).toEqual(await treeDigest(source));
  });
});
