// Python's ftplib.FTP_TLS over explicit FTPS. A subclass whose data
// connections resume the control connection's TLS session (ntransfercmd
// wraps with session=self.sock.session) downloads and uploads byte-identical,
// with TLS 1.2 and 1.3. Plain FTP_TLS, whose data connections do not resume,
// is refused with 522 under --tls-session-reuse required (the default) and
// works under optional.
import { describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { describeRun, python } from './helpers/clients.js';
import { ftplibTls, useFtpsServer } from './helpers/ftps.js';
import { expectServes } from './helpers/server.js';

const noPython = missing('python3');

/**
 * argv: host port path resume(1|0) version(1.2|1.3) upload-size. Downloads
 * `path` (and, with upload-size > 0, first uploads that many random bytes to
 * it). Prints one JSON line: bytes, sha256, the final replies, or the error
 * ftplib raised.
 */
const script = `
import ftplib, hashlib, json, os, ssl, sys
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
resume, version, upload = sys.argv[4] == '1', sys.argv[5], int(sys.argv[6])

${ftplibTls}
ftp = (Resuming if resume else ftplib.FTP_TLS)(context=ctx, timeout=10)
ftp.connect(host, port)
ftp.auth()
ftp.login()
ftp.prot_p()
out = {'cipher': ftp.sock.version()}
try:
    if upload > 0:
        body = os.urandom(upload)
        out['uploadSha256'] = hashlib.sha256(body).hexdigest()
        import io
        out['storFinal'] = ftp.storbinary('STOR ' + path, io.BytesIO(body))
    h = hashlib.sha256()
    n = [0]
    def sink(block):
        h.update(block)
        n[0] += len(block)
    out['final'] = ftp.retrbinary('RETR ' + path, sink, blocksize=65536)
    out['bytes'] = n[0]
    out['sha256'] = h.hexdigest()
    out['listing'] = ftp.nlst('/')
    ftp.quit()
except (*ftplib.all_errors, ssl.SSLError) as e:
    out['error'] = str(e)
    # A data connection the server refused mid-handshake fails in ssl first: its reply is still to be read.
    if not isinstance(e, ftplib.Error):
        try:
            out['reply'] = ftp.getresp()
        except ftplib.all_errors as r:
            out['reply'] = str(r)
print(json.dumps(out))
`;

interface Out {
  cipher: string;
  final?: string;
  storFinal?: string;
  uploadSha256?: string;
  bytes?: number;
  sha256?: string;
  listing?: string[];
  error?: string;
  /** The final reply read after an ssl error on the data connection. */
  reply?: string;
}

async function ftplib(host: string, port: number, path: string, resume: boolean, version: '1.2' | '1.3', upload = 0): Promise<Out> {
  const r = await python(script, [host, String(port), path, resume ? '1' : '0', version, String(upload)]);
  expect(r.code, describeRun(r)).toBe(0);
  return JSON.parse(r.stdout.toString()) as Out;
}

describe.skipIf(noPython)('ftplib.FTP_TLS, session reuse required (the default)', () => {
  const srv = useFtpsServer({ writable: true });

  it.each(['1.2', '1.3'] as const)('TLS %s, resuming subclass: downloads 5 MiB byte-identical and lists', async (version) => {
    const file = srv.files.mib5;
    const out = await ftplib(srv.host, srv.port, file.path, true, version);
    expect(out.error).toBeUndefined();
    expect(out.cipher).toBe(`TLSv${version}`);
    expect(out.bytes).toBe(file.size);
    expect(out.sha256).toBe(file.sha256);
    expect(out.final).toMatch(/^226/);
    expect(out.listing).toEqual(expect.arrayContaining(['1mib.bin', 'hello.txt']));
  });

  it.each(['1.2', '1.3'] as const)('TLS %s, resuming subclass: uploads 2 MiB, then downloads it byte-identical', async (version) => {
    const name = `/ftplib-up-${version}.bin`;
    const out = await ftplib(srv.host, srv.port, name, true, version, 2 * 1024 * 1024 + 5);
    expect(out.error).toBeUndefined();
    expect(out.storFinal).toMatch(/^226/);
    expect(out.sha256).toBe(out.uploadSha256);
  });

  it.each(['1.2', '1.3'] as const)('TLS %s, plain FTP_TLS (no resumption): RETR is refused with 522', async (version) => {
    const out = await ftplib(srv.host, srv.port, srv.files.mib1.path, false, version);
    // ftplib raises the 522 itself, or first an ssl error from the refused handshake, and the 522 is read after it.
    expect(out.reply ?? out.error, JSON.stringify(out)).toMatch(/^522 SSL connection failed: session reuse required/);
    expect(out.bytes).toBeUndefined();
  });

  it('the refused client harmed no one: a fresh client downloads 1 MiB', async () => {
    await expectServes(srv);
    const file = srv.files.mib1;
    const out = await ftplib(srv.host, srv.port, file.path, true, '1.3');
    expect(out.sha256).toBe(file.sha256);
  });

  it('the refusals were counted', async () => {
    const stats = await srv.server.stats();
    expect(stats.transfers.tlsNotResumed).toBeGreaterThanOrEqual(2);
  });
});

describe.skipIf(noPython)('ftplib.FTP_TLS, --tls-session-reuse optional', () => {
  const srv = useFtpsServer({ tlsSessionReuse: 'optional' });

  it.each(['1.2', '1.3'] as const)('TLS %s, plain FTP_TLS (no resumption) downloads 5 MiB byte-identical', async (version) => {
    const file = srv.files.mib5;
    const out = await ftplib(srv.host, srv.port, file.path, false, version);
    expect(out.error).toBeUndefined();
    expect(out.sha256).toBe(file.sha256);
    expect(out.final).toMatch(/^226/);
  });
});
