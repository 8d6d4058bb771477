// Uploads on a --writable server with real clients: Python's ftplib
// (storbinary with and without a REST offset, APPE, STOU, rename, delete,
// MKD/RMD), basic-ftp (uploadFromDir, downloadToDir), and by hand an upload
// cut in the middle, which leaves exactly the bytes the reply reports.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'basic-ftp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { DataChannel, dataModes, describeRun, eventually, FtpControl, python, run, sha256 } from './helpers/clients.js';
import { expectServes, useServer } from './helpers/server.js';
import { makeTree, treeDigest } from './helpers/tree.js';

const srv = useServer({ writable: true });
let local = '';

beforeAll(async () => {
  local = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-upload-'));
});

afterAll(async () => {
  if (local !== '') await rm(local, { recursive: true, force: true });
});

const onServer = (rel: string) => path.join(srv.root, rel);

/** argv: host port. Uploads, resumes, appends, renames and deletes; prints what it saw as JSON. */
const ftplibScript = `
import ftplib, io, json, sys
ftp = ftplib.FTP(timeout=10)
ftp.connect(sys.argv[1], int(sys.argv[2]))
ftp.login()
data = bytes(range(256)) * 4096
out = {}
out['stor'] = ftp.storbinary('STOR up/whole.bin', io.BytesIO(data)) if ftp.mkd('up') else None
out['rest'] = ftp.storbinary('STOR up/resumed.bin', io.BytesIO(data[:300000]))
out['rest2'] = ftp.storbinary('STOR up/resumed.bin', io.BytesIO(data[300000:]), rest=300000)
out['appe'] = ftp.storbinary('APPE up/appended.bin', io.BytesIO(data[:1000]))
out['appe2'] = ftp.storbinary('APPE up/appended.bin', io.BytesIO(data[1000:2000]))
ftp.voidcmd('TYPE I')
conn, _ = ftp.ntransfercmd('STOU')
conn.sendall(b'unique bytes')
conn.close()
out['stou'] = ftp.voidresp()
out['rename'] = ftp.rename('up/whole.bin', 'up/renamed ü.bin')
out['size'] = ftp.size('up/renamed ü.bin')
out['nlst'] = sorted(ftp.nlst('up'))
out['mlsd'] = sorted((name, facts['type'], facts.get('size')) for name, facts in ftp.mlsd('up'))
out['dele'] = ftp.delete('up/appended.bin')
out['mkd'] = ftp.mkd('up/sub dir')
out['rmd'] = ftp.rmd('up/sub dir')
try:
    ftp.rmd('up')
    out['rmd-full'] = 'ok'
except ftplib.error_perm as e:
    out['rmd-full'] = str(e)[:3]
try:
    ftp.sendcmd('RNTO nowhere')
except ftplib.error_perm as e:
    out['rnto-alone'] = str(e)[:3]
ftp.sendcmd('RNFR up/resumed.bin')
ftp.voidcmd('NOOP')
try:
    ftp.sendcmd('RNTO up/never.bin')
    out['rnto-after-noop'] = 'ok'
except ftplib.error_perm as e:
    out['rnto-after-noop'] = str(e)[:3]
ftp.quit()
print(json.dumps(out))
`;

describe.skipIf(missing('python3'))('python3 ftplib uploads', () => {
  it('STOR, REST+STOR, APPE, STOU, RNFR/RNTO, DELE, MKD, RMD', async () => {
    const r = await python(ftplibScript, [srv.host, String(srv.port)]);
    expect(r.code, describeRun(r)).toBe(0);
    const out = JSON.parse(r.stdout.toString()) as Record<string, unknown>;
    const data = Buffer.alloc(256 * 4096);
    for (let i = 0; i < data.length; i++) data[i] = i & 255;
    expect(out.stor).toMatch(/^226 .*1048576 bytes/);
    expect(out.rest2).toMatch(/^226 /);
    expect(out.stou).toMatch(/^226 /);
    expect(out.rename).toMatch(/^250 /);
    expect(out.size).toBe(data.length);
    expect(out.dele).toMatch(/^250 /);
    expect(out.mkd).toBe('/up/sub dir');
    expect(out.rmd).toMatch(/^250 /);
    expect(out['rmd-full']).toBe('550');
    expect(out['rnto-alone']).toBe('503');
    // RNFR then NOOP: the RNFR is forgotten, RNTO is out of sequence and nothing is renamed.
    expect(out['rnto-after-noop']).toBe('503');
    expect(out.nlst).toEqual(expect.arrayContaining(['appended.bin', 'renamed ü.bin', 'resumed.bin']));
    expect(out.mlsd).toEqual(
      expect.arrayContaining([
        ['appended.bin', 'file', '2000'],
        ['renamed ü.bin', 'file', String(data.length)],
      ]),
    );
    expect(sha256(await readFile(onServer('up/renamed ü.bin')))).toBe(sha256(data));
    expect(sha256(await readFile(onServer('up/resumed.bin')))).toBe(sha256(data));
    const stou = (await readdir(onServer('.'))).filter((n) => n.startsWith('stou.'));
    expect(stou).toHaveLength(1);
    expect(await readFile(onServer(stou[0] ?? ''), 'utf8')).toBe('unique bytes');
  });
});

describe('basic-ftp', () => {
  it('uploadFromDir then downloadToDir give back the same tree', async () => {
    const source = path.join(local, 'bf-source');
    const back = path.join(local, 'bf-back');
    await makeTree(source);
    const client = new Client(10_000);
    try {
      await client.access({ host: srv.host, port: srv.port, user: 'anonymous', password: 'bf@example.com' });
      await client.uploadFromDir(source, '/bf-tree');
      await client.cd('/');
      await client.downloadToDir(back, '/bf-tree');
    } finally {
      client.close();
    }
    const expected = await treeDigest(source);
    expect(await treeDigest(onServer('bf-tree'))).toEqual(expected);
    expect(await treeDigest(back)).toEqual(expected);
  });
});

describe('a cut upload', () => {
  const sent = randomBytes(3 * 1024 * 1024);
  const half = 1024 * 1024 + 12345;

  /** Starts STOR of `name`, writes `half` bytes and waits until they are all on disk. */
  async function halfUpload(name: string): Promise<{ ctl: FtpControl; channel: DataChannel }> {
    const ctl = await FtpControl.login(srv.host, srv.port);
    const channel = await DataChannel.open(ctl, 'EPSV');
    expect((await ctl.cmd(`STOR ${name}`)).code).toBe(150);
    const socket = await channel.connected;
    socket.write(sent.subarray(0, half));
    const onDisk = () => stat(onServer(name)).then((s) => s.size === half, () => false);
    expect(await eventually(onDisk, 10_000)).toBe(true);
    return { ctl, channel };
  }

  it('reset data connection: 426 naming the bytes received, and the file holds exactly those', async () => {
    const { ctl, channel } = await halfUpload('cut-reset.bin');
    try {
      channel.reset();
      const final = await ctl.reply();
      expect(final.code).toBe(426);
      expect(final.text).toContain(`${half} bytes received`);
      const kept = await readFile(onServer('cut-reset.bin'));
      expect(kept.length).toBe(half);
      expect(kept.equals(sent.subarray(0, half))).toBe(true);
    } finally {
      ctl.destroy();
    }
  });

  it('client gone (control and data closed): the file keeps exactly the bytes received', async () => {
    const { ctl, channel } = await halfUpload('cut-gone.bin');
    channel.close();
    ctl.destroy();
    await expectServes(srv);
    const kept = await readFile(onServer('cut-gone.bin'));
    expect(kept.length).toBe(half);
    expect(kept.equals(sent.subarray(0, half))).toBe(true);
  });

  it('a finished upload over the same path afterwards replaces it whole', async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    try {
      const channel = await DataChannel.open(ctl, 'PASV');
      expect((await ctl.cmd('STOR cut-reset.bin')).code).toBe(150);
      (await channel.connected).end(sent);
      const final = await ctl.reply();
      expect(final.code, final.lines.join(' / ')).toBe(226);
      expect(final.text).toContain(`${sent.length} bytes received`);
      expect(sha256(await readFile(onServer('cut-reset.bin')))).toBe(sha256(sent));
    } finally {
      ctl.destroy();
    }
  });
});

describe('STOR over an existing file', () => {
  it('a shorter upload leaves only its own bytes; one onto an empty file, exactly its bytes', async () => {
    // The engine empties a file that has bytes and leaves an empty one alone
    // (an ftruncate on ext4 makes close() write the whole upload out).
    const ctl = await FtpControl.login(srv.host, srv.port);
    try {
      const long = randomBytes(300_000);
      const short = randomBytes(1_000);
      for (const [name, body] of [['shrunk.bin', long], ['shrunk.bin', short], ['empty.bin', Buffer.alloc(0)], ['empty.bin', short]] as const) {
        const channel = await DataChannel.open(ctl, 'EPSV');
        expect((await ctl.cmd(`STOR ${name}`)).code).toBe(150);
        (await channel.connected).end(body);
        const final = await ctl.reply();
        expect(final.code, final.lines.join(' / ')).toBe(226);
        expect(sha256(await readFile(onServer(name)))).toBe(sha256(body));
      }
    } finally {
      ctl.destroy();
    }
  });
});

// The ordering (nothing written and no end reported before the old file is
// empty) is pinned by native/test/replace_upload_test.cc, which holds the
// engine's FileJobs thread; here, the end results through the whole server.
describe('replacing a large file (emptied off the worker thread)', () => {
  const old = Buffer.alloc(64 * 1024 * 1024, 0x5a);
  const body = randomBytes(100_000);

  for (const mode of dataModes) {
    it(`${mode}: an upload sent whole and closed at once ends with exactly its bytes`, async () => {
      const name = `replaced-${mode}.bin`;
      await writeFile(onServer(name), old);
      const ctl = await FtpControl.login(srv.host, srv.port);
      try {
        const channel = await DataChannel.open(ctl, mode);
        expect((await ctl.cmd(`STOR ${name}`)).code).toBe(150);
        // All of it, and the FIN, right away: likely while 64 MiB are being freed.
        (await channel.connected).end(body);
        const final = await ctl.reply();
        expect(final.code, final.lines.join(' / ')).toBe(226);
        expect(final.text).toContain(`${body.length} bytes received`);
        expect(sha256(await readFile(onServer(name)))).toBe(sha256(body));
      } finally {
        ctl.destroy();
      }
    });
  }

  it('ABOR right after the data connection: 426 and 226, the session goes on, the next STOR replaces it whole', async () => {
    const name = 'replaced-abor.bin';
    await writeFile(onServer(name), old);
    const ctl = await FtpControl.login(srv.host, srv.port);
    try {
      const channel = await DataChannel.open(ctl, 'EPSV');
      expect((await ctl.cmd(`STOR ${name}`)).code).toBe(150);
      await channel.connected;
      ctl.send('ABOR');
      const replies = [await ctl.reply(), await ctl.reply()];
      expect(replies.map((r) => r.code)).toEqual([426, 226]);
      channel.close();
      const again = await DataChannel.open(ctl, 'PASV');
      expect((await ctl.cmd(`STOR ${name}`)).code).toBe(150);
      (await again.connected).end(body);
      expect((await ctl.reply()).code).toBe(226);
      expect(sha256(await readFile(onServer(name)))).toBe(sha256(body));
    } finally {
      ctl.destroy();
    }
  });
});

describe('special files in the root', () => {
  // The engine opens with O_NONBLOCK: without it, opening a FIFO nobody
  // writes (or reads) would block the worker thread and every client on it.
  it('a FIFO is refused at once for RETR and STOR (550, no 150), and the server goes on', async () => {
    const r = await run('mkfifo', [onServer('pipe')]);
    expect(r.code, describeRun(r)).toBe(0);
    const ctl = await FtpControl.login(srv.host, srv.port);
    try {
      for (const cmd of ['RETR pipe', 'STOR pipe']) {
        const channel = await DataChannel.open(ctl, 'EPSV');
        const answer = await ctl.cmd(cmd);
        expect(answer.code, `${cmd}: ${answer.lines.join(' / ')}`).toBe(550);
        channel.close();
      }
      expect((await ctl.cmd('NOOP')).code).toBe(200);
    } finally {
      ctl.destroy();
    }
    await expectServes(srv);
  });
});
