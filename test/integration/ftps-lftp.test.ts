// lftp (GnuTLS) over explicit FTPS: ftp:ssl-force (AUTH TLS before login)
// and ftp:ssl-protect-data (PROT P), passive and active. get, put and
// mirror (down and back up) are byte-identical.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { describeRun, lftp, sha256 } from './helpers/clients.js';
import { useFtpsServer } from './helpers/ftps.js';
import { expectServes } from './helpers/server.js';
import { makeTree, treeDigest } from './helpers/tree.js';

const srv = useFtpsServer({ writable: true });
let local = '';

beforeAll(async () => {
  local = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-ftps-lftp-'));
  await makeTree(path.join(srv.root, 'tree'));
});

afterAll(async () => {
  if (local !== '') await rm(local, { recursive: true, force: true });
});

/** FTPS forced on control and data; the auto certificate is self-signed. */
const ftps = ['set ftp:ssl-allow yes', 'set ftp:ssl-force true', 'set ftp:ssl-protect-data true', 'set ssl:verify-certificate no'];
const open = () => `open -u anonymous,lftp@example.com ftp://${srv.host}:${srv.port}`;

describe.skipIf(missing('lftp'))('lftp over FTPS', () => {
  it.each([
    ['passive', 'set ftp:passive-mode on'],
    ['active', 'set ftp:passive-mode off'],
  ])('%s: get 1 MiB and 5 MiB byte-identical, over AUTH TLS and PROT P', async (name, mode) => {
    const dir = path.join(local, `get-${name}`);
    await mkdir(dir);
    const r = await lftp([...ftps, mode, 'debug 5', open(), `get -O ${dir} /1mib.bin /5mib.bin`, 'bye'], { home: local });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toMatch(/AUTH TLS/);
    expect(r.stderr).toMatch(/PROT P/);
    expect(sha256(await readFile(path.join(dir, '1mib.bin')))).toBe(srv.files.mib1.sha256);
    expect(sha256(await readFile(path.join(dir, '5mib.bin')))).toBe(srv.files.mib5.sha256);
  });

  it('put uploads 4 MiB byte-identical', async () => {
    const body = randomBytes(4 * 1024 * 1024 + 3);
    const source = path.join(local, 'put-source.bin');
    await writeFile(source, body);
    const r = await lftp([...ftps, open(), `put ${source} -o /lftp-put.bin`, 'bye'], { home: local });
    expect(r.code, describeRun(r)).toBe(0);
    expect(sha256(await readFile(path.join(srv.root, 'lftp-put.bin')))).toBe(sha256(body));
  });

  it('mirror /tree down, then mirror -R it back up: both identical', { timeout: 90_000 }, async () => {
    const down = path.join(local, 'mirror-down');
    const r = await lftp([...ftps, open(), `mirror /tree "${down}"`, 'bye'], { home: local, timeoutMs: 60_000 });
    expect(r.code, describeRun(r)).toBe(0);
    const expected = await treeDigest(path.join(srv.root, 'tree'));
    expect(Object.keys(expected).length).toBeGreaterThan(10);
    expect(await treeDigest(down)).toEqual(expected);
    const up = await lftp([...ftps, open(), `mirror -R "${down}" /tree-back`, 'bye'], { home: local, timeoutMs: 60_000 });
    expect(up.code, describeRun(up)).toBe(0);
    expect(await treeDigest(path.join(srv.root, 'tree-back'))).toEqual(expected);
  });

  it('the server still serves afterwards', async () => {
    await expectServes(srv);
  });
});
