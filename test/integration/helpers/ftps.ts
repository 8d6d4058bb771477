// FTPS for the integration tests: a test server with the auto certificate
// and an implicit listener, and a hand-driven FTPS client over node:tls
// (AUTH TLS, a protected data connection that resumes the control
// connection's session or, to be refused, does not) for exact reply codes
// and hand-made bad input.
import type net from 'node:net';
import tls from 'node:tls';
import { collect, connectTo, type DataResult, epsvTarget, FtpControl, type FtpReply, withTimeout } from './clients.js';
import { type StartOptions, type TestServer, useServer } from './server.js';

/** The test certificate is self-signed (--tls-cert auto): clients check nothing. */
export const insecure = { rejectUnauthorized: false } as const;

/** FTPS on the test server: the auto certificate, an implicit listener on any free port. */
export const ftpsDefaults = { tlsCert: 'auto', implicitTlsPort: 0 } as const;

export function useFtpsServer(options: StartOptions = {}, host = '127.0.0.1'): TestServer {
  return useServer({ ...ftpsDefaults, ...options }, host);
}

/**
 * Python for the ftplib tests, after `import ftplib, ssl` and with `version`
 * ('1.2' or '1.3') set: `Resuming`, an FTP_TLS whose data connections resume
 * the control connection's TLS session (ntransfercmd wraps with
 * session=self.sock.session), and `ctx`, a client context of that one TLS
 * version that checks no certificate.
 */
export const ftplibTls = `
class Resuming(ftplib.FTP_TLS):
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:
            conn = self.context.wrap_socket(conn, server_hostname=self.host, session=self.sock.session)
        return conn, size

ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
v = ssl.TLSVersion.TLSv1_2 if version == '1.2' else ssl.TLSVersion.TLSv1_3
ctx.minimum_version = v
ctx.maximum_version = v
`;

/** The port of the implicit FTPS listener. */
export function implicitPort(srv: TestServer): number {
  const port = srv.server.address.implicitTlsPort;
  if (port === undefined) throw new Error('the test server has no implicit FTPS listener');
  return port;
}

/** ftp://host:port/path (explicit) or ftps://host:implicit-port/path (implicit), as curl takes them. */
export function ftpsUrl(srv: TestServer, virtualPath: string, implicit = false): string {
  const url = new URL(srv.url(virtualPath));
  if (!implicit) return url.href;
  return `ftps://${url.host.replace(/:\d+$/, '')}:${implicitPort(srv)}${url.pathname}`;
}

/** A control connection over TLS, and the TLS session its data connections resume. */
export class TlsControl {
  private latest: Buffer | undefined;

  constructor(
    readonly ctl: FtpControl,
    readonly socket: tls.TLSSocket,
  ) {
    // TLS 1.3 sends its tickets after the handshake: keep the last one.
    socket.on('session', (s: Buffer) => (this.latest = s));
  }

  /** The session a data connection resumes (TLS 1.2: the handshake's; 1.3: the last ticket). */
  get session(): Buffer | undefined {
    return this.latest ?? this.socket.getSession();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export type TlsOptions = Omit<tls.ConnectionOptions, 'socket' | 'host' | 'port'>;

/** The TLS client handshake on `socket`; rejects on a TLS error, a close, or after `timeoutMs`. */
export function handshake(socket: net.Socket, opts: TlsOptions = {}, timeoutMs = 10_000): Promise<tls.TLSSocket> {
  return withTimeout(
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const secure = tls.connect({ socket, ...insecure, ...opts });
      secure.once('secureConnect', () => {
        secure.off('error', reject);
        resolve(secure);
      });
      secure.once('error', reject);
    }),
    timeoutMs,
    'TLS handshake',
  );
}

/** AUTH TLS on `ctl` (which must not be used after), then the handshake. */
export async function startTls(ctl: FtpControl, opts: TlsOptions = {}): Promise<TlsControl> {
  await ctl.expect('AUTH TLS', 234);
  const secure = await handshake(ctl.detach(), opts);
  const tc = new TlsControl(FtpControl.over(secure), secure);
  return tc;
}

/** Connects, AUTH TLS, logs in anonymously, TYPE I, PBSZ 0, PROT P. */
export async function loginTls(host: string, port: number, opts: TlsOptions = {}, timeoutMs = 10_000): Promise<TlsControl> {
  const plain = await FtpControl.connect(host, port, timeoutMs);
  let tc: TlsControl | undefined;
  try {
    tc = await startTls(plain, opts);
    await loginProtected(tc.ctl, timeoutMs);
    return tc;
  } catch (e) {
    tc?.destroy();
    plain.destroy();
    throw e;
  }
}

/** Connects to the implicit FTPS listener (TLS first, then the 220) and logs in as loginTls does. */
export async function loginImplicit(host: string, port: number, opts: TlsOptions = {}, timeoutMs = 10_000): Promise<TlsControl> {
  const socket = await withTimeout(
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({ host, port, ...insecure, ...opts });
      s.once('secureConnect', () => resolve(s));
      s.once('error', reject);
    }),
    timeoutMs,
    'implicit FTPS handshake',
  );
  const tc = new TlsControl(FtpControl.over(socket), socket);
  try {
    const { ctl } = tc;
    const greeting = await ctl.reply(timeoutMs);
    if (greeting.code !== 220) throw new Error(`greeting was ${greeting.lines.join(' / ')}`);
    await loginProtected(ctl, timeoutMs);
    return tc;
  } catch (e) {
    tc.destroy();
    throw e;
  }
}

export interface TlsTransfer extends DataResult {
  prelim: FtpReply;
  final?: FtpReply;
  /** The data connection's handshake failed (the server refused it). */
  tlsError?: string;
  /** The data connection resumed the control connection's session. */
  resumed?: boolean;
}

/**
 * One transfer over an EPSV data connection protected by TLS: `line` (RETR
 * or STOR …), then the data handshake after the 150, resuming the control's
 * session unless `resume` is false. `upload`: bytes to send (STOR).
 */
export async function tlsTransfer(
  tc: TlsControl,
  line: string,
  opts: { resume?: boolean; upload?: Buffer; keep?: boolean; timeoutMs?: number; tls?: TlsOptions } = {},
): Promise<TlsTransfer> {
  const { ctl } = tc;
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const epsv = await ctl.cmd('EPSV', timeoutMs);
  const target = epsvTarget(epsv, ctl);
  if (target === undefined) throw new Error(`EPSV → ${epsv.lines.join(' / ')}`);
  const raw = await withTimeout(connectTo(target.host, target.port), timeoutMs, 'data connect');
  try {
    const prelim = await ctl.cmd(line, timeoutMs);
    if (prelim.code !== 150 && prelim.code !== 125) return { prelim, bytes: 0, sha256: '' };
    const session = opts.resume === false ? undefined : tc.session;
    let secure: tls.TLSSocket;
    try {
      secure = await handshake(raw, { ...opts.tls, session }, timeoutMs);
    } catch (e) {
      const final = await ctl.reply(timeoutMs);
      return { prelim, final, bytes: 0, sha256: '', tlsError: e instanceof Error ? e.message : String(e) };
    }
    const resumed = secure.isSessionReused();
    const result = collect(secure, opts.keep ?? false);
    if (opts.upload !== undefined) secure.end(opts.upload);
    const [final, data] = await Promise.all([ctl.reply(timeoutMs), withTimeout(result, timeoutMs, 'data connection to end')]);
    return { prelim, final, resumed, ...data };
  } finally {
    raw.destroy();
  }
}

/** Over TLS: logs in anonymously, binary type, PBSZ 0 and PROT P. */
async function loginProtected(ctl: FtpControl, timeoutMs: number): Promise<void> {
  await ctl.expect('USER anonymous', 331, timeoutMs);
  await ctl.expect('PASS ftps@example.com', 230, timeoutMs);
  await ctl.expect('TYPE I', 200, timeoutMs);
  await ctl.expect('PBSZ 0', 200, timeoutMs);
  await ctl.expect('PROT P', 200, timeoutMs);
}
