// Issue 20, REST past the end of a file: RETR sends nothing and answers 226
// (as vsftpd does: reading at or past the end yields no bytes); STOR is
// refused up front with 554 (RFC 1123 4.1.3.4), before any 150 and before any
// file is created or changed, whether the offset is one byte past the end or
// 999999999999999; a REST inside the file still resumes an upload.
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataChannel, type FtpControl, retrieve, sha256 } from './helpers/clients.js';
import { expectServes, useServer, withLogin } from './helpers/server.js';

const srv = useServer({ writable: true });
const ten = Buffer.from('0123456789');

beforeAll(async () => {
  await writeFile(path.join(srv.root, 'ten.bin'), ten);
});

const exists = (rel: string) => stat(path.join(srv.root, rel)).then(() => true, () => false);

/** REST `offset`, STOR `name` over EPSV: the reply to STOR; on 150, `data` is sent and the final reply read too. */
async function restStor(ctl: FtpControl, offset: string, name: string, data: Buffer): Promise<number[]> {
  const channel = await DataChannel.open(ctl, 'EPSV');
  try {
    await ctl.expect(`REST ${offset}`, 350);
    const first = await ctl.cmd(`STOR ${name}`);
    if (first.code !== 150) return [first.code];
    const socket = await channel.connected;
    socket.end(data);
    return [first.code, (await ctl.reply()).code];
  } finally {
    channel.close();
  }
}

describe('REST past the end, then RETR', () => {
  it.each([
    ['at the end', 10],
    ['past the end', 1000],
  ])('%s: 150, no bytes, 226', async (_what, offset) => {
    const got = await withLogin(srv, (ctl) => retrieve(ctl, 'EPSV', '/ten.bin', { rest: offset }));
    expect(got.prelim.code).toBe(150);
    expect(got.final?.code).toBe(226);
    expect(got.bytes).toBe(0);
  });
});

describe('REST past the end, then STOR', () => {
  it('of an existing file: 554 up front, the file unchanged, the data setup kept', async () => {
    await withLogin(srv, async (ctl) => {
      const channel = await DataChannel.open(ctl, 'EPSV');
      try {
        await ctl.expect('REST 11', 350);
        const r = await ctl.cmd('STOR ten.bin');
        expect(r.code, r.lines.join(' / ')).toBe(554);
        expect(await readFile(path.join(srv.root, 'ten.bin'))).toEqual(ten);
        // The refusal used neither the REST nor the data setup: a STOR now writes the whole file.
        ctl.send('STOR ten-copy.bin');
        expect((await ctl.reply()).code).toBe(150);
        (await channel.connected).end(ten);
        expect((await ctl.reply()).code).toBe(226);
        expect(await readFile(path.join(srv.root, 'ten-copy.bin'))).toEqual(ten);
      } finally {
        channel.close();
      }
    });
  });

  it('of a missing file: 554, and no file is created', async () => {
    expect(await withLogin(srv, (ctl) => restStor(ctl, '5', 'sparse.bin', ten))).toEqual([554]);
    expect(await exists('sparse.bin')).toBe(false);
  });

  it('REST 999999999999999: 554 before any 150, no file left', async () => {
    await withLogin(srv, async (ctl) => {
      expect(await restStor(ctl, '999999999999999', 'huge.bin', ten)).toEqual([554]);
      expect(await exists('huge.bin')).toBe(false);
      expect(await restStor(ctl, '999999999999999', 'ten.bin', ten)).toEqual([554]);
      expect(await readFile(path.join(srv.root, 'ten.bin'))).toEqual(ten);
    });
  });

  it('REST at the end still resumes an upload', async () => {
    await writeFile(path.join(srv.root, 'resume.bin'), ten);
    expect(await withLogin(srv, (ctl) => restStor(ctl, '10', 'resume.bin', ten))).toEqual([150, 226]);
    expect(sha256(await readFile(path.join(srv.root, 'resume.bin')))).toBe(sha256(Buffer.concat([ten, ten])));
  });

  it('the server still serves', async () => {
    await expectServes(srv);
  });
});
