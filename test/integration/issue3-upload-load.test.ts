// 200 clients at once, each uploading its own 1 MiB file: every file on disk
// has the right checksum. All log in and set up their data connection first,
// then all send STOR together, so that the uploads really overlap; the data
// modes are mixed so that passive listeners and active connects carry uploads.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { allAtOnce } from './helpers/at-once.js';
import { sha256, withTimeout } from './helpers/clients.js';
import { expectServes, useServer } from './helpers/server.js';

const clients = 200;
const srv = useServer({ writable: true, threads: 2 });

describe(`${clients} clients upload at once`, () => {
  it('each 1 MiB file arrives with the right checksum', { timeout: 180_000 }, async () => {
    const payloads = Array.from({ length: clients }, () => randomBytes(1024 * 1024));
    const payload = (i: number): Buffer => payloads[i] ?? Buffer.alloc(0);
    const settled = await allAtOnce(srv.host, srv.port, clients, async (ctl, channel, i) => {
      const prelim = await ctl.cmd(`STOR upload-${i}.bin`, 60_000);
      if (prelim.code !== 150) return `client ${i}: STOR → ${prelim.lines.join(' / ')}`;
      (await withTimeout(channel.connected, 60_000, 'data connection')).end(payload(i));
      const final = await ctl.reply(60_000);
      return final.code === 226 ? '' : `client ${i}: ${final.lines.join(' / ')}`;
    });
    const failures = settled.flatMap((s, i) =>
      s.status === 'rejected' ? [`client ${i}: ${String(s.reason)}`] : s.value === '' ? [] : [s.value],
    );
    expect(failures.slice(0, 10), `${failures.length} uploads failed`).toEqual([]);
    const wrong: number[] = [];
    for (let i = 0; i < clients; i++) {
      const onDisk = await readFile(path.join(srv.root, `upload-${i}.bin`));
      if (sha256(onDisk) !== sha256(payload(i))) wrong.push(i);
    }
    expect(wrong, `${wrong.length} files differ`).toEqual([]);
  });

  it('the server still serves afterwards', async () => {
    await expectServes(srv);
  });
});
