// curl against the real server: passive (EPSV; PASV with --disable-epsv) and
// active (-P 127.0.0.1) downloads are byte-identical; SIZE/MDTM, listings,
// resume, and the errors curl maps replies to.
import { describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { curl, describeRun, sha256 } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

const srv = useServer();
const noCurl = missing('curl');

/** Commands curl sent, from its -v log. */
function sent(stderr: string): string[] {
  return [...stderr.matchAll(/^> ([A-Z]+)/gm)].map((m) => m[1] ?? '');
}

describe.skipIf(noCurl)('curl downloads', () => {
  it.each([
    ['passive, EPSV (curl default)', [], 'EPSV'],
    ['passive, PASV (--disable-epsv)', ['--disable-epsv'], 'PASV'],
    ['active, -P 127.0.0.1 (EPRT)', ['-P', '127.0.0.1'], 'EPRT'],
    ['active, -P 127.0.0.1 --disable-eprt (PORT)', ['-P', '127.0.0.1', '--disable-eprt'], 'PORT'],
  ])('%s: 1 MiB and 5 MiB byte-identical', async (_name, flags, verb) => {
    for (const file of [srv.files.mib1, srv.files.mib5]) {
      const r = await curl(['-v', ...flags, srv.url(file.path)]);
      expect(r.code, describeRun(r)).toBe(0);
      expect(r.stdout.length).toBe(file.size);
      expect(sha256(r.stdout)).toBe(file.sha256);
      expect(sent(r.stderr)).toContain(verb);
    }
  });

  it('downloads several files over one connection (curl reuses the control connection)', async () => {
    const { hello, mib1, nested } = srv.files;
    const r = await curl([srv.url(hello.path), srv.url(mib1.path), srv.url(nested.path)]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(sha256(r.stdout)).toBe(sha256(Buffer.concat([hello.data, mib1.data, nested.data])));
  });

  it('logs in with an explicit user and password', async () => {
    const r = await curl(['-u', 'tester:secret', srv.url(srv.files.hello.path)]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.equals(srv.files.hello.data)).toBe(true);
  });

  it('downloads an empty file', async () => {
    const r = await curl([srv.url(srv.files.empty.path)]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.length).toBe(0);
  });

  it('resumes with -C (REST)', async () => {
    const file = srv.files.mib5;
    const r = await curl(['-v', '-C', '3000000', srv.url(file.path)]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(sha256(r.stdout)).toBe(sha256(file.data.subarray(3_000_000)));
    expect(r.stderr).toMatch(/^> REST 3000000/m);
  });

  it('downloads a byte range (REST, then curl closes when it has enough)', async () => {
    const file = srv.files.mib5;
    const r = await curl(['-r', '100000-199999', srv.url(file.path)]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(sha256(r.stdout)).toBe(sha256(file.data.subarray(100_000, 200_000)));
  });
});

describe.skipIf(noCurl)('curl metadata and listings', () => {
  it('-I reports the size (SIZE) and modification time (MDTM)', async () => {
    const r = await curl(['-I', srv.url(srv.files.mib1.path)]);
    expect(r.code, describeRun(r)).toBe(0);
    const out = r.stdout.toString();
    expect(out).toMatch(/^Content-Length: 1048576\r?$/m);
    expect(out).toMatch(/^Last-Modified: /m);
  });

  it('lists the root with LIST', async () => {
    const r = await curl([srv.url('/')]);
    expect(r.code, describeRun(r)).toBe(0);
    const out = r.stdout.toString();
    for (const name of ['hello.txt', '1mib.bin', '5mib.bin', 'sub', 'with space.txt']) expect(out).toContain(name);
    expect(out).toMatch(/\s1048576\s.*1mib\.bin/);
  });

  it('lists names with NLST (--list-only)', async () => {
    const r = await curl(['--list-only', srv.url('/sub/dir/')]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.toString().split(/\r?\n/).filter(Boolean)).toEqual(['nested.txt']);
  });
});

describe.skipIf(noCurl)('curl errors', () => {
  it('a missing file: RETR gets 550, curl exits 78 (remote file not found)', async () => {
    const r = await curl(['-v', srv.url('/no-such-file.bin')]);
    expect(r.code, describeRun(r)).toBe(78);
    expect(r.stderr).toMatch(/^< 550/m);
  });

  it('a symlink out of the root: 550, nothing of the file outside is sent', async () => {
    const r = await curl(['-v', srv.url('/escape.txt')]);
    expect(r.code, describeRun(r)).toBe(78);
    expect(r.stdout.toString()).not.toContain(srv.fixture.secret.trim());
  });

  it('.. cannot climb out of the root: /../../secret.txt is not found', async () => {
    // --path-as-is keeps curl from folding the dots itself.
    const r = await curl(['--path-as-is', srv.url('/../../secret.txt')]);
    expect(r.code, describeRun(r)).not.toBe(0);
    expect(r.stdout.toString()).not.toContain(srv.fixture.secret.trim());
  });

  it('the server still serves afterwards', async () => {
    const r = await curl([srv.url(srv.files.mib1.path)]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(sha256(r.stdout)).toBe(srv.files.mib1.sha256);
  });
});
