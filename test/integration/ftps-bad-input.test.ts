// Bad FTPS input gets the right reply or a clean close of that session
// only: plain text after 234, garbage records, a truncated handshake (ended,
// and stalled until --login-timeout), a TLS 1.0 hello, lines pipelined in
// clear behind AUTH TLS, a renegotiation request, a data connection that
// does not resume the session, and the out-of-order commands of RFC 4217.
// A TLS session logged in before them still downloads after them, and the
// server's open fds are back where they were. In this process, to count them.
import { readdirSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, FtpControl, withTimeout } from './helpers/clients.js';
import { handshake, insecure, loginTls, startTls, type TlsControl, tlsTransfer, useFtpsServer } from './helpers/ftps.js';
import { expectServes, inProcess } from './helpers/server.js';

const loginTimeout = 3;
const srv = useFtpsServer({ ...inProcess, loginTimeout });

const opened: { destroy(): void }[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.destroy();
});

async function connect(): Promise<FtpControl> {
  const ctl = await FtpControl.connect(srv.host, srv.port);
  opened.push(ctl);
  return ctl;
}

async function tlsLogin(): Promise<TlsControl> {
  const tc = await loginTls(srv.host, srv.port);
  opened.push(tc);
  return tc;
}

const fds = () => readdirSync('/proc/self/fd').length;

/** Resolves once the server has closed `socket` (FIN or reset); what it sent before is returned. */
function closedBy(socket: net.Socket, timeoutMs = 10_000): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => {});
  // Reading on: a server that waits for more would never close.
  socket.resume();
  return withTimeout(
    new Promise<Buffer>((resolve) => socket.once('close', () => resolve(Buffer.concat(chunks)))),
    timeoutMs,
    'the server to close the connection',
  );
}

/** AUTH TLS on a fresh connection, answered 234; returns its raw socket for what comes next. */
async function after234(): Promise<net.Socket> {
  const ctl = await connect();
  await ctl.expect('AUTH TLS', 234);
  return ctl.detach();
}

/** The bytes a TLS client sends first (its ClientHello), caught by a listener of our own. */
async function clientHello(opts: tls.ConnectionOptions = {}): Promise<Buffer> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const { port } = server.address() as net.AddressInfo;
  try {
    const first = new Promise<Buffer>((resolve) => server.once('connection', (s: net.Socket) => s.once('data', (d: Buffer) => (s.destroy(), resolve(d)))));
    const client = tls.connect({ host: '127.0.0.1', port, ...insecure, ...opts });
    client.on('error', () => {});
    const hello = await withTimeout(first, 5_000, 'a ClientHello');
    client.destroy();
    return hello;
  } finally {
    server.close();
  }
}

/**
 * A TLS 1.0 ClientHello by hand (OpenSSL's default security level may refuse
 * to send one): record and client version 3.1, one TLS 1.0 cipher
 * (TLS_RSA_WITH_AES_128_CBC_SHA), no extensions, so no supported_versions.
 */
function tls10Hello(): Buffer {
  const body = Buffer.concat([
    Buffer.from([0x03, 0x01]),
    Buffer.alloc(32, 0x42),
    Buffer.from([0x00]), // session id
    Buffer.from([0x00, 0x02, 0x00, 0x2f]), // cipher suites
    Buffer.from([0x01, 0x00]), // compression: null
  ]);
  const handshakeMsg = Buffer.concat([Buffer.from([0x01, 0x00, body.length >> 8, body.length & 0xff]), body]);
  return Buffer.concat([Buffer.from([0x16, 0x03, 0x01, handshakeMsg.length >> 8, handshakeMsg.length & 0xff]), handshakeMsg]);
}

describe('FTPS bad input', () => {
  let bystander: TlsControl;
  let baseline = 0;

  it('a TLS session logs in before the bad input (it must keep working)', async () => {
    bystander = await loginTls(srv.host, srv.port);
    baseline = fds();
  });

  it('plain text after 234: the session is closed', async () => {
    const socket = await after234();
    socket.write('USER anonymous\r\n');
    await closedBy(socket);
  });

  it('garbage records after 234 (a handshake record header, then noise): closed', async () => {
    const socket = await after234();
    socket.write(Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0x40]), Buffer.alloc(64, 0xee)]));
    await closedBy(socket);
  });

  it('a record that is no TLS at all (content type 0x99): closed', async () => {
    const socket = await after234();
    socket.write(Buffer.from([0x99, 0x03, 0x03, 0x00, 0x04, 1, 2, 3, 4]));
    await closedBy(socket);
  });

  it('a truncated handshake that the client then ends (FIN): closed', async () => {
    const hello = await clientHello();
    const socket = await after234();
    socket.end(hello.subarray(0, Math.floor(hello.length / 2)));
    await closedBy(socket);
  });

  it(`a truncated handshake that then stalls: closed by --login-timeout (${loginTimeout} s)`, async () => {
    const hello = await clientHello();
    const socket = await after234();
    socket.write(hello.subarray(0, 30));
    await closedBy(socket, (loginTimeout + 5) * 1000);
  });

  it('a TLS 1.0 ClientHello: refused (a protocol_version alert or a close), and closed', async () => {
    const socket = await after234();
    socket.write(tls10Hello());
    const got = await closedBy(socket);
    // Anything the server sent is an alert record (content type 21), never a ServerHello (22).
    if (got.length > 0) expect(got[0]).toBe(21);
  });

  it('the implicit listener: a TLS 1.0 hello and plain text are closed too', async () => {
    const port = srv.server.address.implicitTlsPort ?? 0;
    for (const bytes of [tls10Hello(), Buffer.from('USER anonymous\r\n')]) {
      const socket = net.connect({ host: srv.host, port });
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(bytes);
      const got = await closedBy(socket);
      if (got.length > 0) expect(got[0]).toBe(21);
    }
  });

  it('lines sent in clear right behind AUTH TLS are never run', async () => {
    const ctl = await connect();
    // One write: AUTH TLS and a USER that must not pass for one sent over TLS.
    ctl.write('AUTH TLS\r\nUSER injected\r\n');
    expect((await ctl.reply()).code).toBe(234);
    const raw = ctl.detach();
    let secure: tls.TLSSocket | undefined;
    try {
      secure = await handshake(raw);
    } catch {
      // The server fed the clear line to its handshake and gave up: a clean refusal too.
      await closedBy(raw).catch(() => undefined);
      return;
    }
    const tc = FtpControl.over(secure);
    opened.push(tc);
    // Had USER injected run, its 331 would come first.
    const r = await tc.cmd('PWD');
    expect(r.code, r.lines.join(' / ')).toBe(530);
  });

  it('a renegotiation request (TLS 1.2) does not renegotiate', async () => {
    const tc = await loginTls(srv.host, srv.port, { maxVersion: 'TLSv1.2' });
    opened.push(tc);
    const outcome = await withTimeout(
      new Promise<Error | null>((resolve) => {
        tc.socket.once('close', () => resolve(new Error('closed')));
        const asked = tc.socket.renegotiate({}, (e) => resolve(e));
        if (!asked) resolve(new Error('not sent'));
      }),
      10_000,
      'the renegotiation to end',
    );
    expect(outcome).not.toBeNull();
  });

  it('a data connection that does not resume the session gets 522, and the session goes on', async () => {
    const tc = await tlsLogin();
    const refused = await tlsTransfer(tc, `RETR ${srv.files.mib1.path}`, { resume: false });
    expect(refused.final?.code, refused.final?.lines.join(' / ')).toBe(522);
    expect(refused.bytes).toBe(0);
    const ok = await tlsTransfer(tc, `RETR ${srv.files.mib1.path}`);
    expect(ok.final?.code).toBe(226);
    expect(ok.resumed).toBe(true);
    expect(ok.sha256).toBe(srv.files.mib1.sha256);
  });

  it('RFC 4217 order: PBSZ and PROT before AUTH get 503, PROT P before PBSZ 503, AUTH twice 503', async () => {
    const ctl = await connect();
    expect((await ctl.cmd('PBSZ 0')).code).toBe(503);
    expect((await ctl.cmd('PROT P')).code).toBe(503);
    expect((await ctl.cmd('AUTH KERBEROS_V4')).code).toBe(504);
    const tc = await startTls(ctl);
    opened.push(tc);
    expect((await tc.ctl.cmd('PROT P')).code).toBe(503);
    expect((await tc.ctl.cmd('AUTH TLS')).code).toBe(503);
    expect((await tc.ctl.cmd('AUTH SSL')).code).toBe(503);
    expect((await tc.ctl.cmd('PBSZ x')).code).toBe(501);
    const pbsz = await tc.ctl.cmd('PBSZ 16384');
    expect(pbsz.code).toBe(200);
    expect(pbsz.text).toBe('PBSZ=0');
    expect((await tc.ctl.cmd('PROT S')).code).toBe(536);
    expect((await tc.ctl.cmd('PROT E')).code).toBe(536);
    expect((await tc.ctl.cmd('PROT X')).code).toBe(504);
    expect((await tc.ctl.cmd('PROT P')).code).toBe(200);
    expect((await tc.ctl.cmd('CCC')).code).toBe(530);
    expect((await tc.ctl.cmd('QUIT')).code).toBe(221);
  });

  it('CCC on a clear control connection gets 533', async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    opened.push(ctl);
    expect((await ctl.cmd('CCC')).code).toBe(533);
  });

  it('after all of it: the first TLS session still downloads, another client too, and the fds are back', async () => {
    const got = await tlsTransfer(bystander, `RETR ${srv.files.mib5.path}`);
    expect(got.final?.code).toBe(226);
    expect(got.sha256).toBe(srv.files.mib5.sha256);
    await expectServes(srv);
    for (const c of opened.splice(0)) c.destroy();
    expect(await eventually(() => fds() <= baseline, 5_000), `fds ${fds()} vs ${baseline} before the bad input`).toBe(true);
    bystander.destroy();
  });
});
