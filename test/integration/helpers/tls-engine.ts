// The engine's TLS driven without the command table: a few FTP verbs mapped
// straight onto Engine actions (AUTH TLS, PROT, EPSV, PORT, RETR, STOR, CCC),
// and a line client that can switch its socket to node:tls. What the engine
// does on the wire is then checked by node's own TLS client (OpenSSL inside
// node, the same as the server's copy, but the client state machine).
import net from 'node:net';
import tls from 'node:tls';
import { engineConfig } from '../../../src/config/engine-config.js';
import { defaultConfig } from '../../../src/config/settings.js';
import { Engine, type EngineHandler, type Endpoint, type NativeTlsConfig, type SessionId, TransferError } from '../../../src/engine/engine.js';

export interface TlsLog {
  opened: Array<{ sid: SessionId; implicitTls: boolean }>;
  ready: Array<{ sid: SessionId; protocol: string; cipher: string }>;
  failed: Array<{ sid: SessionId; reason: string }>;
  cleared: SessionId[];
  closed: SessionId[];
  lines: string[];
}

/** A server of a dozen verbs over the real engine, with TLS. */
export class MiniTlsServer implements EngineHandler {
  readonly engine: Engine;
  readonly log: TlsLog = { opened: [], ready: [], failed: [], cleared: [], closed: [], lines: [] };

  constructor(root: string, tlsConfig: NativeTlsConfig | undefined, threads = 1) {
    const config = { ...defaultConfig(), host: '127.0.0.1', port: 0, root, threads };
    this.engine = new Engine(engineConfig(config, undefined, tlsConfig), this);
  }

  get port(): number {
    return this.engine.address().port;
  }

  onOpen(sid: SessionId, _peer: Endpoint, _local: Endpoint, implicitTls: boolean): void {
    this.log.opened.push({ sid, implicitTls });
    this.engine.reply(sid, implicitTls ? '220 implicit\r\n' : '220 ready\r\n');
  }

  onLine(sid: SessionId, line: Buffer): void {
    const text = line.toString('latin1');
    this.log.lines.push(text);
    const space = text.indexOf(' ');
    const verb = (space < 0 ? text : text.slice(0, space)).toUpperCase();
    const arg = space < 0 ? '' : text.slice(space + 1);
    const e = this.engine;
    const transfer = { preamble: '150 go\r\n', epilogue: '226 done\r\n' };
    const after = (r: { error: number }) => {
      if (r.error === TransferError.TlsNotResumed) e.reply(sid, '522 resume the TLS session of the control connection\r\n');
      else if (r.error !== 0) e.reply(sid, `426 failed ${r.error}\r\n`);
    };
    switch (verb) {
      case 'AUTH': e.reply(sid, '234 go ahead\r\n'); e.startTls(sid); break;
      case 'PBSZ': e.reply(sid, '200 PBSZ=0\r\n'); break;
      case 'PROT': e.dataProtection(sid, arg === 'P' ? 'private' : 'clear'); e.reply(sid, '200 ok\r\n'); break;
      case 'EPSV': e.listenPassive(sid, { template: '229 passive (|||%P|)\r\n', failure: '425 no listener\r\n' }, () => {}); break;
      case 'PORT': {
        const n = arg.split(',').map(Number);
        e.connectActive(sid, n.slice(0, 4).join('.'), (n[4] ?? 0) * 256 + (n[5] ?? 0));
        e.reply(sid, '200 port\r\n');
        break;
      }
      case 'RETR': void e.sendFile(sid, arg, 0, transfer).then(after); break;
      case 'STOR': void e.recvFile(sid, arg, 0, 'truncate', transfer).then(after); break;
      case 'LIST': void e.sendBuffer(sid, Buffer.from(arg.repeat(1000)), transfer).then(after); break;
      case 'CCC': e.reply(sid, '200 clear\r\n'); e.clearControl(sid); break;
      case 'QUIT': e.reply(sid, '221 bye\r\n'); e.close(sid); break;
      default: e.reply(sid, `200 ${text}\r\n`);
    }
  }

  onTlsReady(sid: SessionId, protocol: string, cipher: string): void {
    this.log.ready.push({ sid, protocol, cipher });
  }

  onTlsFailed(sid: SessionId, reason: string): void {
    this.log.failed.push({ sid, reason });
  }

  onControlCleared(sid: SessionId): void {
    this.log.cleared.push(sid);
  }

  onClosed(sid: SessionId): void {
    this.log.closed.push(sid);
  }

  onDataFailed(): void {}
  onDataConnected(): void {}
  onDataRefused(): void {}
  onPassiveLate(): void {}
  onInputEnded(sid: SessionId): void {
    this.engine.close(sid);
  }
  onLoopFailed(loop: string): void {
    throw new Error(`loop ${loop} failed`);
  }
  onError(error: unknown): void {
    throw error;
  }
}

/** A control connection: lines in, lines out, over TCP and then TLS. */
export class LineClient {
  private buffered = '';
  private waiting: Array<(line: string) => void> = [];
  private lines: string[] = [];
  socket: net.Socket | tls.TLSSocket;
  session: Buffer | undefined;

  constructor(readonly raw: net.Socket) {
    this.socket = raw;
    this.listen(raw);
  }

  static async connect(port: number): Promise<LineClient> {
    const raw = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => raw.once('connect', resolve).once('error', reject));
    return new LineClient(raw);
  }

  /** Implicit TLS: a TLS client from the first byte. */
  static async connectTls(port: number, options: tls.ConnectionOptions): Promise<LineClient> {
    const raw = net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => raw.once('connect', resolve).once('error', reject));
    const c = new LineClient(raw);
    await c.startTls(options);
    return c;
  }

  private listen(stream: net.Socket | tls.TLSSocket): void {
    stream.setEncoding('latin1');
    stream.on('data', (chunk: string) => {
      this.buffered += chunk;
      let at: number;
      while ((at = this.buffered.indexOf('\r\n')) >= 0) {
        const line = this.buffered.slice(0, at);
        this.buffered = this.buffered.slice(at + 2);
        const w = this.waiting.shift();
        if (w) w(line);
        else this.lines.push(line);
      }
    });
    stream.on('error', () => {});
  }

  read(timeoutMs = 5000): Promise<string> {
    const ready = this.lines.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no reply')), timeoutMs);
      this.waiting.push((line) => {
        clearTimeout(timer);
        resolve(line);
      });
    });
  }

  send(line: string): void {
    this.socket.write(`${line}\r\n`);
  }

  async command(line: string): Promise<string> {
    this.send(line);
    return this.read();
  }

  /** Wraps the socket in TLS (after AUTH TLS's 234, or for implicit TLS). */
  async startTls(options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
    this.raw.removeAllListeners('data');
    const secure = tls.connect({ ...options, socket: this.raw });
    secure.on('session', (s: Buffer) => {
      this.session = s;
    });
    await new Promise<void>((resolve, reject) => secure.once('secureConnect', resolve).once('error', reject));
    this.socket = secure;
    this.listen(secure);
    return secure;
  }

  /** Ends when the server closes the connection. */
  closed(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed || this.raw.destroyed) resolve();
      else this.socket.once('close', () => resolve());
    });
  }

  destroy(): void {
    this.socket.destroy();
    this.raw.destroy();
  }
}

/** The port of a "229 passive (|||port|)" reply. */
export function epsvPort(reply: string): number {
  const m = /\(\|\|\|(\d+)\|\)/.exec(reply);
  if (m === null) throw new Error(`not an EPSV reply: ${reply}`);
  return Number(m[1]);
}

/** Reads a TLS data connection to its end (at most `timeoutMs`). */
export function readAll(stream: tls.TLSSocket, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`data connection not ended after ${timeoutMs} ms (${chunks.length} chunks)`)), timeoutMs);
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.once('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    stream.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}
