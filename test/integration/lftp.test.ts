// lftp (the Debian package; .ci/run installs it): passive and active
// downloads, a resumed download (get -c → REST), a parallel pget (several
// REST ranges at once), and a listing.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { describeRun, lftp, sha256 } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

const srv = useServer();
let local = '';

beforeAll(async () => {
  local = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-lftp-'));
});

afterAll(async () => {
  if (local !== '') await rm(local, { recursive: true, force: true });
});

const open = () => `open -u anonymous,lftp@example.com ftp://${srv.host}:${srv.port}`;

describe.skipIf(missing('lftp'))('lftp', () => {
  it.each([
    ['passive', 'set ftp:passive-mode on'],
    ['passive, EPSV preferred', 'set ftp:passive-mode on; set ftp:prefer-epsv on'],
    ['active', 'set ftp:passive-mode off'],
  ])('%s: downloads 1 MiB and 5 MiB byte-identical', async (name, mode) => {
    const dir = path.join(local, name.replace(/\W+/g, '-'));
    await mkdir(dir);
    const r = await lftp([mode, open(), `get -O ${dir} /1mib.bin /5mib.bin`, 'bye'], { home: local });
    expect(r.code, describeRun(r)).toBe(0);
    expect(sha256(await readFile(path.join(dir, '1mib.bin')))).toBe(srv.files.mib1.sha256);
    expect(sha256(await readFile(path.join(dir, '5mib.bin')))).toBe(srv.files.mib5.sha256);
  });

  it('resumes a partial download with get -c (REST)', async () => {
    const file = srv.files.mib5;
    const target = path.join(local, 'resumed-5mib.bin');
    await writeFile(target, file.data.subarray(0, 1_234_567));
    const r = await lftp(['debug 5', open(), `get -c ${file.path} -o ${target}`, 'bye'], { home: local });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stderr).toMatch(/REST 1234567/);
    expect(sha256(await readFile(target))).toBe(file.sha256);
  });

  it('pget downloads 5 MiB in 4 parallel REST ranges byte-identical', async () => {
    const target = path.join(local, 'pget-5mib.bin');
    const r = await lftp([open(), `pget -n 4 /5mib.bin -o ${target}`, 'bye'], { home: local });
    expect(r.code, describeRun(r)).toBe(0);
    expect(sha256(await readFile(target))).toBe(srv.files.mib5.sha256);
  });

  it('cat of a file with a space in its name', async () => {
    const r = await lftp([open(), 'cat "/with space.txt"', 'bye'], { home: local });
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.equals(srv.files.spaced.data)).toBe(true);
  });

  it('cls lists the root', async () => {
    const r = await lftp([open(), 'cls -1 /', 'bye'], { home: local });
    expect(r.code, describeRun(r)).toBe(0);
    const names = r.stdout.toString().split('\n').map((l) => l.trim().replace(/^\//, '').replace(/\/$/, ''));
    for (const n of ['1mib.bin', '5mib.bin', 'hello.txt', 'sub', 'with space.txt']) expect(names).toContain(n);
  });

  it('a missing file fails the command (550), and the server still serves', async () => {
    const r = await lftp([open(), `get -O ${local} /no-such-file.bin`, 'bye'], { home: local });
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(r.timedOut).toBe(false);
    expect(r.stderr).toMatch(/550/);
    const ok = await lftp([open(), 'cat /hello.txt', 'bye'], { home: local });
    expect(ok.code, describeRun(ok)).toBe(0);
    expect(ok.stdout.equals(srv.files.hello.data)).toBe(true);
  });
});
