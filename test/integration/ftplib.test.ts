// Python's ftplib (python3 -c): downloads, downloads with a REST offset
// (retrbinary's rest=), passive and active mode, SIZE, NLST, error codes.
import { describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { describeRun, python, sha256 } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

const srv = useServer();

/**
 * argv: host port path rest passive(1|0). Prints one JSON line: size (SIZE),
 * bytes and sha256 of what RETR sent, and the final reply of the transfer.
 */
const download = `
import ftplib, hashlib, json, sys
host, port, path, rest, passive = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5] == '1'
ftp = ftplib.FTP(timeout=10)
ftp.connect(host, port)
ftp.login()
ftp.set_pasv(passive)
ftp.voidcmd('TYPE I')
size = ftp.size(path)
h = hashlib.sha256()
n = [0]
def sink(block):
    h.update(block)
    n[0] += len(block)
final = ftp.retrbinary('RETR ' + path, sink, blocksize=65536, rest=rest or None)
ftp.quit()
print(json.dumps({'size': size, 'bytes': n[0], 'sha256': h.hexdigest(), 'final': final}))
`;

interface DownloadOut {
  size: number;
  bytes: number;
  sha256: string;
  final: string;
}

async function ftplibDownload(path: string, rest: number, passive: boolean): Promise<DownloadOut> {
  const r = await python(download, [srv.host, String(srv.port), path, String(rest), passive ? '1' : '0']);
  expect(r.code, describeRun(r)).toBe(0);
  return JSON.parse(r.stdout.toString()) as DownloadOut;
}

describe.skipIf(missing('python3'))('python3 ftplib', () => {
  it.each([
    ['passive (PASV)', true],
    ['active (PORT)', false],
  ])('%s: downloads 5 MiB byte-identical, SIZE agrees', async (_name, passive) => {
    const file = srv.files.mib5;
    const out = await ftplibDownload(file.path, 0, passive);
    expect(out.size).toBe(file.size);
    expect(out.bytes).toBe(file.size);
    expect(out.sha256).toBe(file.sha256);
    expect(out.final).toMatch(/^226/);
  });

  it.each([
    ['passive (PASV)', true],
    ['active (PORT)', false],
  ])('%s: downloads with a REST offset, getting the tail', async (_name, passive) => {
    const file = srv.files.mib1;
    for (const rest of [1, 500_000, file.size - 10]) {
      const out = await ftplibDownload(file.path, rest, passive);
      expect(out.bytes).toBe(file.size - rest);
      expect(out.sha256).toBe(sha256(file.data.subarray(rest)));
    }
  });

  it('NLST and cwd', async () => {
    const script = `
import ftplib, json, sys
ftp = ftplib.FTP(timeout=10)
ftp.connect(sys.argv[1], int(sys.argv[2]))
ftp.login('someone', 'secret')
root = sorted(ftp.nlst())
ftp.cwd('sub/dir')
here = ftp.pwd()
nested = ftp.nlst()
ftp.quit()
print(json.dumps({'root': root, 'pwd': here, 'nested': nested}))
`;
    const r = await python(script, [srv.host, String(srv.port)]);
    expect(r.code, describeRun(r)).toBe(0);
    const out = JSON.parse(r.stdout.toString()) as { root: string[]; pwd: string; nested: string[] };
    const names = out.root.map((n) => n.replace(/^\//, ''));
    for (const n of ['1mib.bin', '5mib.bin', 'hello.txt', 'sub', 'with space.txt']) expect(names).toContain(n);
    expect(out.pwd).toBe('/sub/dir');
    expect(out.nested.map((n) => n.replace(/^.*\//, ''))).toEqual(['nested.txt']);
  });

  it('error replies become ftplib exceptions with the right codes', async () => {
    const script = `
import ftplib, json, sys
ftp = ftplib.FTP(timeout=10)
ftp.connect(sys.argv[1], int(sys.argv[2]))
codes = {}
def code(name, f):
    try:
        f()
        codes[name] = 'ok'
    except ftplib.all_errors as e:
        codes[name] = str(e)[:3]
code('size-before-login', lambda: ftp.size('/hello.txt'))
ftp.login()
code('size-missing', lambda: ftp.size('/missing'))
code('retr-missing', lambda: ftp.retrbinary('RETR /missing', lambda b: None))
code('unknown', lambda: ftp.sendcmd('XYZZY'))
code('retr-escape', lambda: ftp.retrbinary('RETR /escape.txt', lambda b: None))
code('still-fine', lambda: ftp.voidcmd('NOOP'))
ftp.quit()
print(json.dumps(codes))
`;
    const r = await python(script, [srv.host, String(srv.port)]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(JSON.parse(r.stdout.toString())).toEqual({
      'size-before-login': '530',
      'size-missing': '550',
      'retr-missing': '550',
      unknown: '502',
      'retr-escape': '550',
      'still-fine': 'ok',
    });
  });
});
