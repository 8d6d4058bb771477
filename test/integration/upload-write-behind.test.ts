// Upload write-behind (--upload-write-behind): uploads larger than a few
// windows arrive intact through STOR, REST+STOR and APPE, and leave the page
// cache behind them (mincore(2) reads back what stays). A server with
// write-behind off is the control: there the whole upload stays cached.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
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

/**
 * argv: host port command... Each command ('STOR name', 'APPE name', or
 * 'REST n name') uploads 16 MiB in 256 KiB writes 10 ms apart, so writeback
 * keeps up; prints each final reply, then, per distinct file, how many of its
 * bytes are in the page cache (mincore on a shared read-only mapping).
 */
const pacedScript = `
import ctypes, ftplib, json, mmap, os, sys, time
class Paced:
    def __init__(self):
        self.left = 16 << 20
    def read(self, n):
        if self.left == 0:
            return b''
        time.sleep(0.01)
        n = min(n, self.left)
        self.left -= n
        return b'x' * n
def resident(path):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    fd = os.open(path, os.O_RDONLY)
    size = os.fstat(fd).st_size
    addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
    os.close(fd)
    page = os.sysconf('SC_PAGE_SIZE')
    vec = (ctypes.c_ubyte * ((size + page - 1) // page))()
    if libc.mincore(addr, size, vec) != 0:
        raise OSError(ctypes.get_errno(), 'mincore')
    libc.munmap(addr, size)
    return sum(b & 1 for b in vec) * page
host, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
ftp = ftplib.FTP(timeout=20)
ftp.connect(host, port)
ftp.login()
out = {'replies': [], 'resident': {}}
for cmd in sys.argv[4:]:
    words = cmd.split()
    rest = int(words[1]) if words[0] == 'REST' else None
    verb = 'STOR' if rest is not None else words[0]
    out['replies'].append(ftp.storbinary(verb + ' ' + words[-1], Paced(), blocksize=1 << 18, rest=rest))
ftp.quit()
for cmd in sys.argv[4:]:
    name = cmd.split()[-1]
    out['resident'][name] = resident(os.path.join(root, name))
print(json.dumps(out))
`;

interface Paced {
  replies: string[];
  /** Bytes in the page cache per file, after the last upload. */
  resident: Record<string, number>;
}

async function pacedUploads(srv: { host: string; port: number; root: string }, commands: string[]): Promise<Paced> {
  const r = await python(pacedScript, [srv.host, String(srv.port), srv.root, ...commands], 80_000);
  expect(r.code, describeRun(r)).toBe(0);
  return JSON.parse(r.stdout.toString()) as Paced;
}

/** tmpfs keeps every page in memory whatever the advice: the residency checks mean nothing there. */
async function onTmpfs(dir: string): Promise<boolean> {
  const r = await run('stat', ['-f', '-c', '%T', dir]);
  return r.stdout.toString().trim() === 'tmpfs';
}

const noPython = missing('python3');

describe.skipIf(noPython)('with write-behind', () => {
  const srv = useServer({ writable: true, uploadWriteBehind: window });

  it('STOR, REST+STOR and APPE of 12 MiB arrive intact', { timeout: 90_000 }, async () => {
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

  it('leaves all but the last windows of paced STOR, APPE and REST+STOR uploads out of the page cache', { timeout: 90_000 }, async (ctx) => {
    if (await onTmpfs(srv.root)) ctx.skip();
    // APPE and REST write from 16 MiB on: windows counted from 0 would keep their whole tail cached.
    const out = await pacedUploads(srv, ['STOR paced.bin', 'APPE paced.bin', 'STOR resumed.bin', 'REST 16777216 resumed.bin']);
    expect(out.replies).toEqual(Array(4).fill(expect.stringMatching(/^226 .*16777216 bytes/)));
    // What stays: the last four windows (1 MiB), plus any still being written back when passed.
    expect(out.resident['paced.bin']).toBeLessThan(4 * mib);
    expect(out.resident['resumed.bin']).toBeLessThan(4 * mib);
  });
});

describe.skipIf(noPython)('with write-behind off (the control)', () => {
  const srv = useServer({ writable: true, uploadWriteBehind: 0 });

  it('keeps the whole paced upload in the page cache', { timeout: 90_000 }, async (ctx) => {
    if (await onTmpfs(srv.root)) ctx.skip();
    const out = await pacedUploads(srv, ['STOR paced.bin']);
    expect(out.replies).toEqual([expect.stringMatching(/^226 /)]);
    expect(out.resident['paced.bin']).toBeGreaterThan(15 * mib);
  });
});
