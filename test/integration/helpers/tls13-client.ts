// A TLS 1.3 client that writes and reads its own records after node:tls has
// done the handshake (RFC 8446 5.1-5.4, 7.1-7.3), for hostile input the
// server's record layer must survive: node:tls runs the handshake through a
// Duplex this holds, logs the application traffic secrets (its 'keylog'
// event), and is then cut off from the socket, whose bytes are ours from
// there on. TLS_AES_128_GCM_SHA256 only.
import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';

const kKeyLength = 16;
const kIvLength = 12;
const kTagLength = 16;

/** HKDF-Expand-Label(secret, label, "", length) with SHA-256, for length <= 32 (one HMAC block). */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0, 1])]);
  return createHmac('sha256', secret).update(info).digest().subarray(0, length);
}

/** One direction's traffic secret, its key and iv, and the sequence number of its next record. */
export class Direction {
  private key: Buffer = Buffer.alloc(0);
  private iv: Buffer = Buffer.alloc(0);
  seq = 0n;

  constructor(private secret: Buffer) {
    this.take(secret);
  }

  /** The next generation (a KeyUpdate): new keys, seq 0. */
  update(): void {
    this.take(expandLabel(this.secret, 'traffic upd', 32));
  }

  /** `secret`'s key and iv (RFC 8446 7.3), from sequence number 0. */
  private take(secret: Buffer): void {
    this.secret = secret;
    this.key = expandLabel(secret, 'key', kKeyLength);
    this.iv = expandLabel(secret, 'iv', kIvLength);
    this.seq = 0n;
  }

  private nonce(): Buffer {
    const n = Buffer.from(this.iv);
    const s = Buffer.alloc(8);
    s.writeBigUInt64BE(this.seq);
    for (let i = 0; i < 8; i++) n[4 + i] = (n[4 + i] as number) ^ (s[i] as number);
    return n;
  }

  /** A whole record of content `type`: `content`, the type, `padding` zeros. */
  seal(type: number, content: Buffer, padding = 0): Buffer {
    const inner = Buffer.concat([content, Buffer.from([type]), Buffer.alloc(padding)]);
    const length = inner.length + kTagLength;
    const header = Buffer.from([23, 3, 3, length >> 8, length & 0xff]);
    const c = createCipheriv('aes-128-gcm', this.key, this.nonce());
    c.setAAD(header);
    const body = Buffer.concat([c.update(inner), c.final(), c.getAuthTag()]);
    this.seq++;
    return Buffer.concat([header, body]);
  }

  /** Opens the record `header` + `body`: its content type and content, padding stripped. */
  open(header: Buffer, body: Buffer): { type: number; content: Buffer } {
    const d = createDecipheriv('aes-128-gcm', this.key, this.nonce());
    d.setAAD(header);
    d.setAuthTag(body.subarray(body.length - kTagLength));
    const inner = Buffer.concat([d.update(body.subarray(0, body.length - kTagLength)), d.final()]);
    this.seq++;
    let end = inner.length;
    while (end > 0 && inner[end - 1] === 0) end--;
    if (end === 0) throw new Error('a record without a content type');
    return { type: inner[end - 1] as number, content: inner.subarray(0, end - 1) };
  }
}

export interface RecordClient {
  socket: net.Socket;
  /** Our records to the server (its read direction). */
  write: Direction;
  /** The server's records (its write direction; its ticket already read). */
  read: Direction;
}

function secretOf(lines: string[], label: string): Buffer {
  const line = lines.find((l) => l.startsWith(`${label} `));
  if (line === undefined) throw new Error(`no ${label} in the keylog`);
  return Buffer.from(line.trim().split(' ')[2] as string, 'hex');
}

/**
 * Connects, says AUTH TLS in clear, runs a TLS 1.3 handshake with node:tls
 * (AES-128-GCM), waits for the server's ticket, and hands back the socket,
 * no longer read by anyone, with both directions' keys.
 */
export async function connectRecordClient(host: string, port: number): Promise<RecordClient> {
  const socket = net.connect(port, host);
  let clear = '';
  const onClear = (c: Buffer) => (clear += c.toString('latin1'));
  socket.on('data', onClear);
  const until = async (what: RegExp) => {
    for (let i = 0; i < 500 && !what.test(clear); i++) await new Promise((r) => setTimeout(r, 10));
    if (!what.test(clear)) throw new Error(`no ${String(what)} in ${JSON.stringify(clear)}`);
  };
  await until(/^220 /m);
  socket.write('AUTH TLS\r\n');
  await until(/^234 /m);
  socket.off('data', onClear);
  const forward = (c: Buffer) => bridge.push(c);
  const bridge = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, done) {
      socket.write(chunk, done);
    },
  });
  socket.on('data', forward);
  const keylog: string[] = [];
  const t = tls.connect({
    socket: bridge,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ciphers: 'TLS_AES_128_GCM_SHA256',
  });
  t.on('keylog', (line: Buffer) => keylog.push(line.toString('latin1')));
  t.on('error', () => {});
  // The ticket is the one record the server sends under its key before us.
  await new Promise<void>((resolve, reject) => {
    t.once('session', () => resolve());
    t.once('error', reject);
    setTimeout(() => reject(new Error('no TLS session ticket')), 10_000).unref();
  });
  socket.off('data', forward);
  socket.pause();
  const read = new Direction(secretOf(keylog, 'SERVER_TRAFFIC_SECRET_0'));
  read.seq = 1n;
  return { socket, write: new Direction(secretOf(keylog, 'CLIENT_TRAFFIC_SECRET_0')), read };
}

/** The records the server sends from now on, opened as they come (KeyUpdates applied); `onRecord` sees each. */
export function readRecords(c: RecordClient, onRecord: (type: number, content: Buffer) => void): void {
  let pending = Buffer.alloc(0);
  c.socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      const length = pending.readUInt16BE(3);
      if (pending.length < 5 + length) break;
      const { type, content } = c.read.open(pending.subarray(0, 5), pending.subarray(5, 5 + length));
      pending = pending.subarray(5 + length);
      if (type === 22 && content[0] === 24) c.read.update();
      onRecord(type, content);
    }
  });
  c.socket.resume();
}
