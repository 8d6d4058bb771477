// Upload write-behind (--upload-write-behind): uploads larger than a few
// windows arrive intact through STOR, REST+STOR and APPE, and leave the page
// cache behind them, which `fincore` (util-linux) reads back. A server with
// write-behind off is the control: there the whole upload stays cached.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRun, python, run, sha256 } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

const window = 256 * 1024;
const mib = 1024 * 1024;

/** argv: host port. Uploads 12 MiB three ways, reads one back; prints JSON. */
const uploadsScript = `
import ftplib, hashlib, io, json, random, sys
data = random.Random(7).randbytes(12 << 20)
ftp = ftplib.FTP(timeout=20)
ftp.connect(sys.argv[1], int(sys.argv[2]))
ftp.login()
ftp.mkd('wb')
out = {'sha256': hashlib.sha256(data).hexdigest()}
out['stor'] = ftp.storbinary('STOR wb/whole.bin', io.BytesIO(data), blocksize=1 << 18)
ftp.storbinary('STOR wb/resumed.bin', io.BytesIO(data[:5 << 20]))
out['rest'] = ftp.storbinary('STOR wb/resumed.bin', io.BytesIO(data[5 << 20:]), blocksize=1 << 18, rest=5 << 20)
ftp.storbinary('APPE wb/appended.bin', io.BytesIO(data[:3 << 20]))
out['appe'] = ftp.storbinary('APPE wb/appended.bin', io.BytesIO(data[3 << 20:]), blocksize=1 << 18)
back = io.BytesIO()
ftp.retrbinary('RETR wb/whole.bin', back.write)
out['retr'] = hashlib.sha256(back.getvalue()).hexdigest()
ftp.quit()
print(json.dumps(out))
`;

/** argv: host port name. Uploads 16 MiB in 256 KiB writes a few ms apart, so writeback keeps up. */
const pacedScript = `
import ftplib, sys, time
class Paced:
    def __init__(self):
        self.left = 16 << 20
    def read(self, n):
        if self.left == 0:
            return b''
        time.sleep(0.004)
        n = min(n, self.left)
        self.left -= n
        return b'x' * n
ftp = ftplib.FTP(timeout=20)
ftp.connect(sys.argv[1], int(sys.argv[2]))
ftp.login()
print(ftp.storbinary('STOR ' + sys.argv[3], Paced(), blocksize=1 << 18))
ftp.quit()
`;

/** Bytes of `file` in the page cache. */
async function resident(file: string): Promise<number> {
  const r = await run('fincore', ['--bytes', '--noheadings', '--output', 'RES', file]);
  expect(r.code, describeRun(r)).toBe(0);
  return Number(r.stdout.toString().trim());
}

/** tmpfs keeps every page in memory whatever the advice: the residency checks mean nothing there. */
async function onTmpfs(dir: string): Promise<boolean> {
  const r = await run('stat', ['-f', '-c', '%T', dir]);
  return r.stdout.toString().trim() === 'tmpfs';
}

describe('with write-behind', () => {
  const srv = useServer({ writable: true, uploadWriteBehind: window });

  it('STOR, REST+STOR and APPE of 12 MiB arrive intact', async () => {
    const r = await python(uploadsScript, [srv.host, String(srv.port)], 60_000);
    expect(r.code, describeRun(r)).toBe(0);
    const out = JSON.parse(r.stdout.toString()) as Record<string, string>;
    expect(out.stor).toMatch(/^226 .*12582912 bytes/);
    expect(out.rest).toMatch(/^226 /);
    expect(out.appe).toMatch(/^226 /);
    expect(out.retr).toBe(out.sha256);
    for (const name of ['whole.bin', 'resumed.bin', 'appended.bin']) {
      expect(sha256(await readFile(path.join(srv.root, 'wb', name))), name).toBe(out.sha256);
    }
  });

  it('leaves most of a paced 16 MiB upload out of the page cache', async (ctx) => {
    if (await onTmpfs(srv.root)) ctx.skip();
    const r = await python(pacedScript, [srv.host, String(srv.port), 'paced.bin'], 60_000);
    expect(r.stdout.toString(), describeRun(r)).toMatch(/^226 /);
    // What stays: the last few windows, still being written back when passed.
    expect(await resident(path.join(srv.root, 'paced.bin'))).toBeLessThan(8 * mib);
  });
});

describe('with write-behind off (the control)', () => {
  const srv = useServer({ writable: true, uploadWriteBehind: 0 });

  it('keeps the whole paced upload in the page cache', async (ctx) => {
    if (await onTmpfs(srv.root)) ctx.skip();
    const r = await python(pacedScript, [srv.host, String(srv.port), 'paced.bin'], 60_000);
    expect(r.stdout.toString(), describeRun(r)).toMatch(/^226 /);
    expect(await resident(path.join(srv.root, 'paced.bin'))).toBeGreaterThan(15 * mib);
  });
});
