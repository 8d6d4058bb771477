// FTPS in the native loop (issue 23), through the Engine API with node:tls as
// the client: AUTH TLS, implicit TLS, PROT P data connections in passive and
// active mode that must resume the control connection's session, CCC, and
// what hostile clients do to a handshake. The command table's FTPS rows and
// the real FTP clients are tested elsewhere (the TS half of the issue).
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBinding } from '../../src/engine/native.js';
import { missing } from '../helpers/requires.js';
import { describeRun, eventually, python } from './helpers/clients.js';
import { epsvPort, LineClient, MiniTlsServer, readAll } from './helpers/tls-engine.js';

const made = loadBinding().makeSelfSignedCertificate('localhost');
const clientTls = { ca: made.cert, servername: 'localhost' } as const;
let root: string;
let server: MiniTlsServer;
const file = randomBytes(3 * 1024 * 1024 + 17);
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'muxftpd-tls-'));
  await writeFile(path.join(root, 'big.bin'), file);
  await writeFile(path.join(root, 'empty.bin'), '');
  server = new MiniTlsServer(root, { cert: made.cert, key: made.key, sessionReuse: 'required', implicitPort: 0, ktls: 'auto' }, 2);
});

afterAll(async () => {
  await server.engine.stop();
  await rm(root, { recursive: true, force: true });
});

/** A control connection after AUTH TLS, PBSZ 0 and PROT P. */
async function secured(options: tls.ConnectionOptions = {}): Promise<LineClient> {
  const c = await LineClient.connect(server.port);
  expect(await c.read()).toBe('220 ready');
  expect(await c.command('AUTH TLS')).toBe('234 go ahead');
  await c.startTls({ ...clientTls, ...options });
  expect(await c.command('PBSZ 0')).toBe('200 PBSZ=0');
  expect(await c.command('PROT P')).toBe('200 ok');
  return c;
}

/** Opens a passive TLS data connection, resuming `session` (or not). */
/**
 * The reply that ends a RETR whose data connection is refused. The worker
 * starts a passive connection's handshake as soon as it comes: it may fail
 * before the RETR does (no 150: the transfer ends with it at once), or after.
 */
async function refusal(c: LineClient): Promise<string> {
  const reply = await c.read();
  return reply === '150 go' ? c.read() : reply;
}

async function passiveData(c: LineClient, session: Buffer | undefined): Promise<tls.TLSSocket> {
  const port = epsvPort(await c.command('EPSV'));
  const raw = net.connect(port, '127.0.0.1');
  return tls.connect({ ...clientTls, socket: raw, session });
}

describe('AUTH TLS on the control connection', () => {
  it('answers TlsReady, then carries lines and replies over TLS 1.3', async () => {
    const c = await secured();
    expect((c.socket as tls.TLSSocket).getProtocol()).toBe('TLSv1.3');
    expect(await c.command('NOOP')).toBe('200 NOOP');
    const ready = server.log.ready.at(-1);
    expect(ready?.protocol).toBe('TLSv1.3');
    expect(ready?.cipher).toMatch(/^TLS_/);
    expect(await c.command('QUIT')).toBe('221 bye');
    await c.closed();
  });

  it('speaks TLS 1.2 with an ECDHE AEAD suite', async () => {
    const c = await secured({ maxVersion: 'TLSv1.2' });
    expect((c.socket as tls.TLSSocket).getProtocol()).toBe('TLSv1.2');
    expect((c.socket as tls.TLSSocket).getCipher().name).toMatch(/^ECDHE-ECDSA-(AES\d+-GCM|CHACHA20)/);
    expect(await c.command('NOOP')).toBe('200 NOOP');
    c.destroy();
  });

  it('refuses TLS 1.1 and older: TlsFailed, and the session closes', async () => {
    const failed = server.log.failed.length;
    const c = await LineClient.connect(server.port);
    await c.read();
    expect(await c.command('AUTH TLS')).toBe('234 go ahead');
    await expect(c.startTls({ ...clientTls, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' })).rejects.toThrow();
    await c.closed();
    expect(await eventually(() => server.log.failed.length === failed + 1, 5000)).toBe(true);
  });

  it('fails the session on clear text sent after the 234 (STARTTLS injection)', async () => {
    const failed = server.log.failed.length;
    const c = await LineClient.connect(server.port);
    await c.read();
    expect(await c.command('AUTH TLS')).toBe('234 go ahead');
    c.send('USER injected');
    await c.closed();
    expect(await eventually(() => server.log.failed.length === failed + 1, 5000)).toBe(true);
    expect(server.log.lines).not.toContain('USER injected');
  });

  it('drops a partial line sent in clear with AUTH TLS: it never joins a line sent over TLS', async () => {
    const c = await LineClient.connect(server.port);
    await c.read();
    c.raw.write('AUTH TLS\r\nNO');
    expect(await c.read()).toBe('234 go ahead');
    await c.startTls(clientTls);
    expect(await c.command('OP')).toBe('200 OP');
    c.destroy();
  });
});

describe('PROT P data connections', () => {
  it('sends a file over a passive TLS data connection that resumes the control session, close_notify before the 226', async () => {
    const c = await secured();
    await c.command('NOOP');  // the session ticket has arrived by now
    const before = server.engine.stats().tls;
    const data = await passiveData(c, c.session);
    // Read from the start: a short transfer may end before the 150 is seen.
    const reading = readAll(data);
    c.send('RETR big.bin');
    expect(await c.read()).toBe('150 go');
    const got = await reading;
    expect(data.isSessionReused()).toBe(true);
    expect(sha(got)).toBe(sha(file));
    expect(await c.read()).toBe('226 done');
    const after = server.engine.stats().tls;
    expect(after.dataHandshakes).toBe(before.dataHandshakes + 1);
    c.destroy();
  });

  it('sends an empty file and a buffer (listing) over TLS', async () => {
    const c = await secured();
    await c.command('NOOP');
    let data = await passiveData(c, c.session);
    let reading = readAll(data);
    c.send('RETR empty.bin');
    expect(await c.read()).toBe('150 go');
    expect((await reading).length).toBe(0);
    expect(await c.read()).toBe('226 done');
    data = await passiveData(c, c.session);
    reading = readAll(data);
    c.send('LIST abc');
    expect(await c.read()).toBe('150 go');
    expect((await reading).toString()).toBe('abc'.repeat(1000));
    expect(await c.read()).toBe('226 done');
    c.destroy();
  });

  it('receives an upload over TLS that ends with close_notify', async () => {
    const c = await secured();
    await c.command('NOOP');
    const data = await passiveData(c, c.session);
    c.send('STOR up.bin');
    expect(await c.read()).toBe('150 go');
    await new Promise<void>((resolve) => data.end(file, resolve));
    expect(await c.read()).toBe('226 done');
    expect(sha(await readFile(path.join(root, 'up.bin')))).toBe(sha(file));
    c.destroy();
  });

  it('connects out in active mode as a TLS server', async () => {
    const c = await secured();
    await c.command('NOOP');
    const listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as net.AddressInfo).port;
    const accepted = new Promise<net.Socket>((resolve) => listener.once('connection', resolve));
    expect(await c.command(`PORT 127,0,0,1,${port >> 8},${port & 255}`)).toBe('200 port');
    c.send('RETR big.bin');
    const raw = await accepted;
    const data = tls.connect({ ...clientTls, socket: raw, session: c.session });
    const reading = readAll(data);
    expect(await c.read()).toBe('150 go');
    expect(sha(await reading)).toBe(sha(file));
    expect(await c.read()).toBe('226 done');
    listener.close();
    c.destroy();
  });

  it('refuses a data connection that does not resume the session (reuse required), and counts it', async () => {
    const c = await secured();
    await c.command('NOOP');
    const before = server.engine.stats().tls.dataNotResumed;
    const data = await passiveData(c, undefined);
    data.on('error', () => {});
    c.send('RETR big.bin');
    expect(await refusal(c)).toBe('522 resume the TLS session of the control connection');
    expect(server.engine.stats().tls.dataNotResumed).toBe(before + 1);
    data.destroy();
    c.destroy();
  });

  it("refuses another client's session on this session's data connection", async () => {
    const a = await secured();
    const b = await secured();
    await a.command('NOOP');
    await b.command('NOOP');
    const data = await passiveData(a, b.session);
    data.on('error', () => {});
    a.send('RETR big.bin');
    expect(await refusal(a)).toBe('522 resume the TLS session of the control connection');
    data.destroy();
    a.destroy();
    b.destroy();
  });

  it('a garbage handshake on the data connection fails the transfer, not the session', async () => {
    const c = await secured();
    const port = epsvPort(await c.command('EPSV'));
    const raw = net.connect(port, '127.0.0.1');
    raw.on('error', () => {});
    raw.write('GET / HTTP/1.0\r\n\r\n');
    c.send('RETR big.bin');
    expect(await refusal(c)).toMatch(/^426 failed /);
    expect(server.engine.stats().tls.dataFailures).toBeGreaterThan(0);
    expect(await c.command('NOOP')).toBe('200 NOOP');
    raw.destroy();
    c.destroy();
  });
});

// CCC with a real client: ftplib's FTP_TLS.ccc() unwraps the socket (its
// close_notify after ours), then talks clear text on the same connection.
describe.skipIf(missing('python3'))('CCC', () => {
  it('returns the control connection to clear text after close_notify both ways', async () => {
    const script = [
      'import ftplib, ssl, sys',
      'ctx = ssl.create_default_context(cafile=sys.argv[2])',
      'ftp = ftplib.FTP_TLS(context=ctx)',
      'ftp.connect("localhost", int(sys.argv[1]), timeout=10)',
      'ftp.auth()',
      'print(ftp.sock.version())',
      'print(ftp.voidcmd("NOOP over tls"))',
      'print(ftp.ccc())',
      'print("clear" if ftp.sock._sslobj is None else "tls")',
      'print(ftp.voidcmd("NOOP in clear"))',
    ].join('\n');
    const ca = path.join(root, 'ca.pem');
    await writeFile(ca, made.cert);
    const cleared = server.log.cleared.length;
    const r = await python(script, [String(server.port), ca]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.toString().trim().split('\n')).toEqual(['TLSv1.3', '200 NOOP over tls', '200 clear', 'clear', '200 NOOP in clear']);
    expect(server.log.cleared.length).toBe(cleared + 1);
  });
});

describe('implicit TLS', () => {
  it('is announced with the flag once its handshake is done', async () => {
    const implicit = server.engine.implicitTlsAddress();
    expect(implicit).toBeDefined();
    const c = await LineClient.connectTls(implicit?.port ?? 0, clientTls);
    expect(await c.read()).toBe('220 implicit');
    expect(server.log.opened.at(-1)?.implicitTls).toBe(true);
    expect(await c.command('NOOP')).toBe('200 NOOP');
    c.destroy();
  });

  it('counts a failed implicit handshake natively, and JS never hears of it', async () => {
    const opened = server.log.opened.length;
    const before = server.engine.stats().tls.implicitFailures;
    const raw = net.connect(server.engine.implicitTlsAddress()?.port ?? 0, '127.0.0.1');
    raw.on('error', () => {});
    raw.write('USER anonymous\r\n');
    await new Promise((resolve) => raw.once('close', resolve));
    expect(await eventually(() => server.engine.stats().tls.implicitFailures === before + 1, 5000)).toBe(true);
    expect(server.log.opened.length).toBe(opened);
  });
});

describe('no TLS configured', () => {
  it('answers StartTls with TlsFailed "tls not configured" and closes the session', async () => {
    const plain = new MiniTlsServer(root, undefined);
    try {
      const c = await LineClient.connect(plain.port);
      await c.read();
      expect(await c.command('AUTH TLS')).toBe('234 go ahead');
      await c.closed();
      expect(await eventually(() => plain.log.failed.length === 1, 5000)).toBe(true);
      expect(plain.log.failed[0]?.reason).toBe('tls not configured');
    } finally {
      await plain.engine.stop();
    }
  });
});
