// ftpload --tls against a real FTPS server: pyftpdlib's TLS_FTPHandler (the
// bench's own pyftpdlib-server.py, given a certificate made by openssl), on a
// free loopback port. A new session per download with TLS 1.3 and downloads
// on one open session with TLS 1.2: AUTH TLS, PBSZ 0, PROT P, every data
// connection resuming the session's TLS session, every download's size and
// CRC-32 checked. And implicit FTPS (TLS before the 220) against a scripted
// Node TLS responder. Bounded: --count, --timeout, and the tests' own timeouts.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { banner } from '../../bench/peers/servers.js';
import { makeTlsCert } from '../../bench/peers/tls-cert.js';
import { missing, notBuilt } from '../helpers/requires.js';
import { ftpload } from './helpers/run-ftpload.js';

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

const skip = notBuilt('ftpload') || missing('python3', 'openssl', 'libssl-dev', 'pyftpdlib', 'pyopenssl');

describe.skipIf(skip)('ftpload --tls against pyftpdlib (TLS_FTPHandler)', () => {
  let dir = '';
  let port = 0;
  let server: ChildProcess | null = null;
  const file = randomBytes(300 * 1024 + 17);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bench-tls-peer-'));
    const root = path.join(dir, 'root');
    mkdirSync(root);
    writeFileSync(path.join(root, 'f.bin'), file);
    const tls = makeTlsCert(path.join(dir, 'tls'));
    port = await freePort();
    // A passive range of its own in the upper half of the ephemeral range.
    const pmin = 50000 + (port % 5000);
    server = spawn('/usr/bin/python3', [path.join(packageRoot, 'bench/peers/config/pyftpdlib-server.py'), root, String(port),
      String(pmin), String(pmin + 49), 'elr', tls.cert, tls.key], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      if ((await banner(port, 300))?.startsWith('220')) return;
      if (server.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('pyftpdlib did not answer 220');
  }, 20_000);

  afterAll(() => {
    if (server?.pid !== undefined && server.exitCode === null) server.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  const local = (): string[] => ['--file', 'f.bin', '--file-local', path.join(dir, 'root/f.bin'), '--checksum'];

  it('logs in over TLS 1.3 and downloads with a new session each, checksums right, data connections resumed', async () => {
    const s = await ftpload(['--port', String(port), '--tls', 'explicit', '--tls-version', '1.3', '--scenario', 'small',
      ...local(), '--count', '3', '--concurrency', '1', '--duration', '20', '--timeout', '5']);
    expect(s.errors).toEqual({});
    expect(s.ops).toBe(3);
    expect(s.verified_size).toBe(3);
    expect(s.verified_checksum).toBe(3);
    expect(s.tls).toMatchObject({ mode: 'explicit', version: '1.3', ctl_handshakes: 3, data_handshakes: 3, data_resumed: 3 });
    expect(s.tls?.sessions_issued).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('downloads again and again on one session over TLS 1.2, each data connection resuming the control’s session', async () => {
    const s = await ftpload(['--port', String(port), '--tls', 'explicit', '--tls-version', '1.2', '--scenario', 'persistent',
      ...local(), '--count', '4', '--concurrency', '1', '--duration', '20', '--timeout', '5']);
    expect(s.errors).toEqual({});
    expect(s.ops).toBe(4);
    expect(s.verified_checksum).toBe(4);
    expect(s.tls).toMatchObject({ version: '1.2', ctl_handshakes: 1, data_handshakes: 4, data_resumed: 4 });
  }, 30_000);
});

describe.skipIf(notBuilt('ftpload') || missing('openssl', 'libssl-dev'))('ftpload --tls implicit', () => {
  it('does the handshake before the 220, then logs in and quits over TLS', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-tls-implicit-'));
    const files = makeTlsCert(path.join(dir, 'tls'));
    const lines: string[] = [];
    // A scripted implicit-FTPS responder: its first bytes are the 220, inside TLS.
    const srv = tls.createServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (sock) => {
      sock.write('220 implicit\r\n');
      let buf = '';
      sock.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          lines.push(line);
          if (line.startsWith('USER')) sock.write('331 pass\r\n');
          else if (line.startsWith('PASS')) sock.write('230 in\r\n');
          else if (line === 'QUIT') sock.end('221 bye\r\n');
          else sock.write('500 ?\r\n');
        }
      });
      sock.on('error', () => {});
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    try {
      const port = (srv.address() as net.AddressInfo).port;
      const s = await ftpload(['--port', String(port), '--tls', 'implicit', '--scenario', 'login', '--count', '2',
        '--concurrency', '1', '--duration', '10', '--timeout', '5']);
      expect(s.errors).toEqual({});
      expect(s.ops).toBe(2);
      expect(s.tls).toMatchObject({ mode: 'implicit', ctl_handshakes: 2, data_handshakes: 0 });
      // No AUTH: the connection was TLS from its first byte.
      expect(lines.filter((l) => l.startsWith('AUTH'))).toEqual([]);
      expect(lines.filter((l) => l === 'QUIT')).toHaveLength(2);
    } finally {
      await new Promise((r) => srv.close(r));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
