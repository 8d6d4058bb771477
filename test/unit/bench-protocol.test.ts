// The stress client's protocol handling: ftpload (native) driven against a
// scripted in-process FTP server that splits replies across TCP writes, sends
// multi-line replies, PASV without parentheses, 150 and 226 in one write, and
// wrong sizes or contents on purpose, answers pipelined NOOPs one by one, and
// records when data connections arrive. Plus the TS reply framer and CLI parser.
// Speed is never asserted.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notBuilt } from '../helpers/requires.js';
import { findBenchTool, ftploadArgs } from '../../bench/client/ftpload.js';
import { BenchUsageError, parseCli } from '../../bench/client/options.js';
import { parseSizeReply, probeSize, ReplyReader } from '../../bench/client/probe.js';
import { ftpload } from './helpers/run-ftpload.js';

interface FakeOptions {
  /** bytes served for RETR */
  content: Buffer;
  /** reply to PASS */
  passReply?: string;
  /** answer PASV as "227 =h,h,h,h,p,p" (no parentheses) */
  bareePasv?: boolean;
  /** reply to NOOP (default "200 OK.") */
  noopReply?: string;
  /** answer the first EPSV of the server's life with 425 */
  refuseFirstEpsv?: boolean;
}

interface Fake {
  port: number;
  uploads: number[];
  commands: string[];
  /** most command lines received on one control connection and not yet answered */
  maxBacklog: number;
  /** passive data connections accepted so far */
  dataAccepted: number;
  /** dataAccepted when each RETR arrived */
  retrSeenData: number[];
  /** remote addresses of the control connections */
  clients: Set<string>;
  close(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Writes a reply in two TCP writes, split inside the line. */
async function splitWrite(sock: net.Socket, text: string): Promise<void> {
  const cut = Math.max(1, Math.floor(text.length / 2));
  sock.write(text.slice(0, cut));
  await sleep(2);
  if (!sock.destroyed) sock.write(text.slice(cut));
}

async function startFake(o: FakeOptions): Promise<Fake> {
  const uploads: number[] = [];
  const commands: string[] = [];
  const retrSeenData: number[] = [];
  const clients = new Set<string>();
  const sockets = new Set<net.Socket>();
  let maxBacklog = 0;
  let dataAccepted = 0;
  let epsvs = 0;
  const server = net.createServer((ctl) => {
    sockets.add(ctl);
    clients.add(ctl.remoteAddress ?? '');
    let received = 0;
    let answered = 0;
    ctl.on('close', () => sockets.delete(ctl));
    ctl.on('error', () => {});
    ctl.setNoDelay(true);
    let buf = '';
    let pasv: net.Server | null = null;
    let pasvConn: Promise<net.Socket> | null = null;
    let active: { host: string; port: number } | null = null;
    const dataSocket = async (): Promise<net.Socket> => {
      if (pasvConn) return pasvConn;
      const a = active as { host: string; port: number };
      return new Promise((res, rej) => {
        const s = net.connect(a.port, a.host, () => res(s));
        s.on('error', rej);
      });
    };
    const handle = async (line: string): Promise<void> => {
      const [verb = '', ...rest] = line.split(' ');
      const arg = rest.join(' ');
      commands.push(verb.toUpperCase());
      switch (verb.toUpperCase()) {
        case 'USER':
          return splitWrite(ctl, '331 Password please.\r\n');
        case 'PASS':
          return splitWrite(ctl, o.passReply ?? '230-Welcome\r\n230-to the fake\r\n230 Logged in.\r\n');
        case 'TYPE':
          return splitWrite(ctl, '200 OK.\r\n');
        case 'NOOP':
          return splitWrite(ctl, o.noopReply ?? '200 OK.\r\n');
        case 'EPSV':
        case 'PASV': {
          if (verb.toUpperCase() === 'EPSV' && o.refuseFirstEpsv && epsvs++ === 0) {
            return splitWrite(ctl, '425 Not now.\r\n');
          }
          pasv?.close();
          const srv = net.createServer();
          pasv = srv;
          pasvConn = new Promise((res) => srv.once('connection', (d: net.Socket) => {
            dataAccepted++;
            res(d);
          }));
          await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
          const port = (srv.address() as net.AddressInfo).port;
          if (verb.toUpperCase() === 'EPSV') return splitWrite(ctl, `229 Extended (|||${port}|)\r\n`);
          const p = `127,0,0,1,${port >> 8},${port & 255}`;
          return splitWrite(ctl, o.bareePasv ? `227 =${p}\r\n` : `227 Entering Passive Mode (${p}).\r\n`);
        }
        case 'PORT': {
          const n = arg.split(',').map(Number);
          active = { host: n.slice(0, 4).join('.'), port: (n[4] ?? 0) * 256 + (n[5] ?? 0) };
          pasvConn = null;
          return splitWrite(ctl, '200 PORT ok.\r\n');
        }
        case 'EPRT': {
          const f = arg.split(arg[0] ?? '|');
          active = { host: f[2] ?? '', port: Number(f[3]) };
          pasvConn = null;
          return splitWrite(ctl, '200 EPRT ok.\r\n');
        }
        case 'RETR': {
          retrSeenData.push(dataAccepted);
          const d = await dataSocket();
          await splitWrite(ctl, '150 Here it comes.\r\n');
          await new Promise<void>((res) => d.end(o.content, res));
          pasv?.close();
          // 226 after the data; sometimes ftpload sees it before the EOF.
          return splitWrite(ctl, '226 Done.\r\n');
        }
        case 'STOR': {
          const d = await dataSocket();
          let n = 0;
          d.on('data', (b: Buffer) => {
            n += b.length;
          });
          const ended = new Promise<void>((res) => d.on('end', res));
          ctl.write('150 Send it.\r\n');
          await ended;
          d.end();
          uploads.push(n);
          pasv?.close();
          return splitWrite(ctl, '226 Stored.\r\n');
        }
        case 'QUIT':
          ctl.end('221 Bye.\r\n');
          return;
        default:
          return splitWrite(ctl, '502 Not here.\r\n');
      }
    };
    let chain = Promise.resolve();
    ctl.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        const nl = buf.indexOf('\r\n');
        if (nl < 0) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        received++;
        maxBacklog = Math.max(maxBacklog, received - answered);
        chain = chain.then(() => handle(line)).catch(() => {}).then(() => {
          answered++;
        });
      }
    });
    void splitWrite(ctl, '220-fake FTP\r\n220-second line\r\n220 ready\r\n');
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return {
    port: (server.address() as net.AddressInfo).port,
    uploads,
    commands,
    get maxBacklog() {
      return maxBacklog;
    },
    get dataAccepted() {
      return dataAccepted;
    },
    retrSeenData,
    clients,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((res) => server.close(() => res()));
    },
  };
}

const content = Buffer.alloc(10_000, 7);
let dir = '';
let local = '';

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'bench-proto-'));
  local = path.join(dir, 'f.bin');
  writeFileSync(local, content);
});

describe.skipIf(notBuilt('ftpload'))('ftpload against a scripted server', () => {
  let fake: Fake;
  beforeAll(async () => {
    fake = await startFake({ content });
  });
  afterAll(async () => fake.close());

  it('is built', () => {
    expect(existsSync(findBenchTool('ftpload'))).toBe(true);
  });

  for (const mode of ['epsv', 'pasv', 'port', 'eprt']) {
    it(`downloads and verifies size and checksum over ${mode}`, async () => {
      const s = await ftpload(['--port', String(fake.port), '--scenario', 'persistent', '--mode', mode,
        '--file', 'f.bin', '--file-local', local, '--checksum', '--concurrency', '2', '--count', '6', '--duration', '20']);
      expect(s.errors).toEqual({});
      expect(s.ops).toBe(6);
      expect(s.bytes).toBe(6 * content.length);
      expect(s.verified_size).toBe(6);
      expect(s.verified_checksum).toBe(6);
      expect(s.latency.count).toBe(6);
    });
  }

  it('counts the address truth: 227s against --expect-pasv-address, active connections from the server', async () => {
    const run = (mode: string, extra: string[] = []) =>
      ftpload(['--port', String(fake.port), '--scenario', 'persistent', '--mode', mode, '--file', 'f.bin',
        '--file-size', String(content.length), '--count', '3', '--duration', '20', ...extra]);
    const zero = { pasvAsExpected: 0, pasvUnexpected: 0, activeAsSeen: 0, activeFromElsewhere: 0, activeRefused: 0 };
    // The scripted server announces 127.0.0.1, the address dialed: expected by default.
    let s = await run('pasv');
    expect(s.expect_pasv_address).toBe('127.0.0.1');
    expect(s.address_truth).toEqual({ ...zero, pasvAsExpected: 3 });
    // Another expected address: every 227 counted unexpected; the transfers still go to --host.
    s = await run('pasv', ['--expect-pasv-address', '10.9.8.7']);
    expect(s.address_truth).toEqual({ ...zero, pasvUnexpected: 3 });
    expect(s.errors).toEqual({});
    // A 229 has no address to get wrong.
    s = await run('epsv', ['--expect-pasv-address', '10.9.8.7']);
    expect(s.address_truth).toEqual({ ...zero, pasvAsExpected: 3 });
    s = await run('port');
    expect(s.address_truth).toEqual({ ...zero, activeAsSeen: 3 });
  });

  it('counts a session per operation in login and small, and ends with QUIT', async () => {
    const before = fake.commands.filter((c) => c === 'QUIT').length;
    const s = await ftpload(['--port', String(fake.port), '--scenario', 'small', '--file', 'f.bin',
      '--file-size', String(content.length), '--concurrency', '3', '--count', '5', '--duration', '20']);
    expect(s.errors).toEqual({});
    expect(s.ops).toBe(5);
    expect(s.sessions_ok).toBe(5);
    expect(fake.commands.filter((c) => c === 'QUIT').length - before).toBe(5);
  });

  it('uploads the asked number of bytes per STOR', async () => {
    fake.uploads.length = 0;
    const s = await ftpload(['--port', String(fake.port), '--scenario', 'upload', '--upload-size', '300000',
      '--concurrency', '2', '--count', '4', '--duration', '20']);
    expect(s.errors).toEqual({});
    expect(s.ops).toBe(4);
    expect(fake.uploads).toEqual([300000, 300000, 300000, 300000]);
  });

  it('holds idle sessions with NOOPs and reports them alive', async () => {
    const s = await ftpload(['--port', String(fake.port), '--scenario', 'idle', '--concurrency', '5',
      '--noop-interval', '0.1', '--duration', '1']);
    expect(s.errors).toEqual({});
    expect(s.alive_at_end).toBe(5);
    expect(s.ops).toBeGreaterThan(0);
  });

  it('keeps --pipeline NOOPs in flight and counts each 200 as an operation', async () => {
    const fake = await startFake({ content });
    try {
      const s = await ftpload(['--port', String(fake.port), '--scenario', 'noop', '--pipeline', '8',
        '--concurrency', '2', '--count', '200', '--duration', '20']);
      expect(s.errors).toEqual({});
      expect(s.ops).toBe(200);
      expect(s.ops_by_kind).toEqual({ noop: 200 });
      expect(s.latency.count).toBe(200);
      expect(s.pipeline).toBe(8);
      // pipelined: more than one NOOP waited for its reply, never more than the window
      expect(fake.maxBacklog).toBeGreaterThan(1);
      expect(fake.maxBacklog).toBeLessThanOrEqual(8);
      expect(fake.commands.filter((c) => c === 'NOOP').length).toBe(200);
      // the flood drains its window, then quits
      expect(fake.commands.filter((c) => c === 'QUIT').length).toBe(2);
    } finally {
      await fake.close();
    }
  });

  it('reads a multi-line 200 as one NOOP reply', async () => {
    const fake = await startFake({ content, noopReply: '200-one\r\n200-two\r\n200 three\r\n' });
    try {
      const s = await ftpload(['--port', String(fake.port), '--scenario', 'noop', '--pipeline', '4',
        '--count', '20', '--duration', '20']);
      expect(s.errors).toEqual({});
      expect(s.ops).toBe(20);
    } finally {
      await fake.close();
    }
  });

  it('holds every passive data connection open before the first RETR, then ends', async () => {
    const fake = await startFake({ content });
    try {
      const s = await ftpload(['--port', String(fake.port), '--scenario', 'passive', '--file', 'f.bin',
        '--file-size', String(content.length), '--concurrency', '6', '--threads', '2',
        '--source', '127.0.0.2-127.0.0.3', '--duration', '20']);
      expect(s.errors).toEqual({});
      expect(s.ops).toBe(6);
      expect(s.max_data_held).toBe(6);
      expect(s.verified_size).toBe(6);
      expect(s.sessions_started).toBe(6);
      expect(s.aborted_at_end).toBe(0);
      expect(fake.retrSeenData).toEqual([6, 6, 6, 6, 6, 6]);
      expect([...fake.clients].sort()).toEqual(['127.0.0.2', '127.0.0.3']);
      // one session each: the run ends when they are done, not at --duration
      expect(s.elapsed_s).toBeLessThan(15);
    } finally {
      await fake.close();
    }
  });

  it('releases the held sessions when one fails its data setup', async () => {
    const fake = await startFake({ content, refuseFirstEpsv: true });
    try {
      const s = await ftpload(['--port', String(fake.port), '--scenario', 'passive', '--file', 'f.bin',
        '--concurrency', '4', '--duration', '20']);
      expect(s.errors).toEqual({ pasv_425: 1 });
      expect(s.ops).toBe(3);
      expect(s.sessions_started).toBe(4);
      expect(s.elapsed_s).toBeLessThan(15);
    } finally {
      await fake.close();
    }
  });

  it('reports a short download as size_mismatch', async () => {
    const s = await ftpload(['--port', String(fake.port), '--scenario', 'persistent', '--file', 'f.bin',
      '--file-size', String(content.length + 1), '--count', '2', '--duration', '20']);
    expect(s.ops).toBe(0);
    expect(s.errors['size_mismatch']).toBeGreaterThan(0);
  });
});

describe.skipIf(notBuilt('ftpload'))('ftpload error kinds', () => {
  it('names a wrong checksum and a PASV reply without parentheses still works', async () => {
    const other = Buffer.alloc(content.length, 8);
    const fake = await startFake({ content: other, bareePasv: true });
    try {
      const s = await ftpload(['--port', String(fake.port), '--scenario', 'persistent', '--mode', 'pasv',
        '--file', 'f.bin', '--file-local', local, '--checksum', '--count', '2', '--duration', '20']);
      expect(s.verified_size).toBeGreaterThan(0);
      expect(s.errors['checksum_mismatch']).toBeGreaterThan(0);
    } finally {
      await fake.close();
    }
  });

  it('names a refused login by state and code', async () => {
    const fake = await startFake({ content, passReply: '530 No.\r\n' });
    try {
      const s = await ftpload(['--port', String(fake.port), '--scenario', 'login', '--count', '1', '--duration', '1']);
      expect(s.ops).toBe(0);
      expect(s.errors['pass_530']).toBeGreaterThan(0);
    } finally {
      await fake.close();
    }
  });

  it('names a refused NOOP of the flood by its state and code', async () => {
    const fake = await startFake({ content, noopReply: '421 Going away.\r\n' });
    try {
      const s = await ftpload(['--port', String(fake.port), '--scenario', 'noop', '--duration', '0.5']);
      expect(s.ops).toBe(0);
      expect(s.errors['noop_flood_421']).toBeGreaterThan(0);
    } finally {
      await fake.close();
    }
  });

  it('names a refused connection', async () => {
    const srv = net.createServer();
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', res));
    const port = (srv.address() as net.AddressInfo).port;
    await new Promise<void>((res) => srv.close(() => res()));
    const s = await ftpload(['--port', String(port), '--scenario', 'login', '--duration', '0.3']);
    expect(s.ops).toBe(0);
    expect(s.errors['connect_refused']).toBeGreaterThan(0);
  });
});

describe('TypeScript protocol helpers', () => {
  it('frames replies split at any byte, multi-line, CRLF or LF', () => {
    const text = '220-hello\r\n220-more\n220 ready\r\n331 pw\r\n213 10000\r\n';
    for (let cut = 1; cut < text.length; cut++) {
      const r = new ReplyReader();
      const got = [...r.push(text.slice(0, cut)), ...r.push(text.slice(cut))];
      expect(got.map((x) => x.code)).toEqual([220, 331, 213]);
      expect(got[0]?.lines).toEqual(['220-hello', '220-more', '220 ready']);
    }
  });
  it('keeps lines inside a multi-line reply that look like other codes', () => {
    const r = new ReplyReader();
    expect(r.push('211-Features:\r\n 200 not an end\r\n211 End\r\n')).toEqual([
      { code: 211, lines: ['211-Features:', ' 200 not an end', '211 End'] },
    ]);
  });
  it('rejects a line that is not a reply', () => {
    expect(() => new ReplyReader().push('hello\r\n')).toThrow(/MUXFTPD_ERR_BAD_REPLY/);
  });
  it('parses SIZE replies', () => {
    expect(parseSizeReply({ code: 213, lines: ['213 4096'] })).toBe(4096);
    expect(parseSizeReply({ code: 550, lines: ['550 no'] })).toBeNull();
  });
  it('asks SIZE of the scripted server (502 → null)', async () => {
    const fake = await startFake({ content });
    try {
      expect(await probeSize('127.0.0.1', fake.port, 'anonymous', 'x', 'f.bin')).toBeNull();
    } finally {
      await fake.close();
    }
  });
});

describe('muxftpd-bench flags', () => {
  it('parses the documented flags', () => {
    const o = parseCli(['--scenario', 'small', '--host', '::1', '--port', '2121', '--concurrency', '100',
      '--duration', '5', '--count', '1000', '--file', 'a.bin', '--mode', 'eprt', '--source', '127.0.0.2-127.0.0.20', '--json']);
    expect(o.load).toMatchObject({ scenario: 'small', host: '::1', port: 2121, concurrency: 100, duration: 5,
      count: 1000, file: 'a.bin', mode: 'eprt', source: '127.0.0.2-127.0.0.20' });
    expect(o.json).toBe(true);
    expect(o.load.pipeline).toBeUndefined();
  });
  it('shares --max-data-setups out over the processes, at least one each', () => {
    const o = parseCli(['--scenario', 'persistent', '--file', 'f', '--max-data-setups', '3', '--processes', '2']).load;
    expect(o.maxDataSetups).toBe(3);
    const at = (a: string[]): string | undefined => a[a.indexOf('--max-data-setups') + 1];
    expect([at(ftploadArgs(o, 0, 2)), at(ftploadArgs(o, 1, 2))]).toEqual(['2', '1']);
    expect(at(ftploadArgs({ ...o, maxDataSetups: 1 }, 1, 2))).toBe('1');
    expect(ftploadArgs(parseCli(['--scenario', 'persistent', '--file', 'f']).load)).not.toContain('--max-data-setups');
    expect(() => parseCli(['--scenario', 'persistent', '--max-data-setups', '0'])).toThrow(BenchUsageError);
  });
  it('takes --expect-pasv-address (an IP address) into the ftpload argv', () => {
    const o = parseCli(['--scenario', 'small', '--file', 'a', '--mode', 'pasv', '--expect-pasv-address', '203.0.113.9']);
    expect(o.load.expectPasvAddress).toBe('203.0.113.9');
    expect(ftploadArgs(o.load).join(' ')).toContain('--expect-pasv-address 203.0.113.9');
    expect(parseCli(['--scenario', 'login']).load.expectPasvAddress).toBeUndefined();
    expect(() => parseCli(['--scenario', 'login', '--expect-pasv-address', 'nat.example'])).toThrow(/--expect-pasv-address/);
  });
  it('parses the noop and passive scenarios', () => {
    expect(parseCli(['--scenario', 'noop']).load).toMatchObject({ scenario: 'noop', pipeline: 16 });
    expect(parseCli(['--scenario', 'noop', '--pipeline', '4']).load.pipeline).toBe(4);
    expect(parseCli(['--scenario', 'passive', '--file', 'a.bin', '--mode', 'pasv']).load).toMatchObject({ scenario: 'passive', mode: 'pasv' });
    expect(() => parseCli(['--scenario', 'passive'])).toThrow(/needs --file/);
    expect(() => parseCli(['--scenario', 'passive', '--file', 'a', '--mode', 'port'])).toThrow(/epsv or pasv/);
    expect(() => parseCli(['--scenario', 'noop', '--pipeline', '0'])).toThrow(/--pipeline/);
  });
  it('refuses bad input with a usage error', () => {
    expect(() => parseCli([])).toThrow(BenchUsageError);
    expect(() => parseCli(['--scenario', 'nope'])).toThrow(/--scenario/);
    expect(() => parseCli(['--scenario', 'small'])).toThrow(/needs --file/);
    expect(() => parseCli(['--scenario', 'login', '--port', '70000'])).toThrow(/--port/);
    expect(() => parseCli(['--scenario', 'login', '--mode', 'x'])).toThrow(/--mode/);
    expect(() => parseCli(['--scenario', 'login', '--host', 'example.com'])).toThrow(/--host/);
    expect(() => parseCli(['--scenario', 'login', '--bogus'])).toThrow(BenchUsageError);
  });
});
