// The CLI with FTPS: --tls-cert auto prints the certificate's SHA-256
// fingerprint at start, and it is the one every connection sees, also with
// --processes 2 (one certificate for the whole server, made once); a bad
// --tls-cert or --tls-key, or a TLS setting without a certificate, stops the
// start with exit 2 and one line naming the flag.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { describeRun, eventually, freePort, killChild, run, type Tracked } from './helpers/clients.js';
import { cli, ensureBuilt, startCliAt } from './helpers/cli.js';
import { loginImplicit, loginTls } from './helpers/ftps.js';

const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: os.tmpdir(), LANG: 'C.UTF-8' };
let root = '';
const tracked: Tracked[] = [];

beforeAll(async () => {
  await ensureBuilt();
  root = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-ftps-cli-'));
  await writeFile(path.join(root, 'hello.txt'), 'hello over tls\n');
}, 180_000);

afterEach(() => {
  for (const t of tracked.splice(0)) killChild(t.child);
});

afterAll(async () => {
  if (root !== '') await rm(root, { recursive: true, force: true });
});

describe('muxftpd --tls-cert auto', () => {
  it.each([1, 2])('--processes %i: prints one fingerprint, and every connection gets that certificate', async (processes) => {
    const implicit = await freePort();
    const args = ['--root', root, '--tls-cert', 'auto', '--implicit-tls-port', String(implicit), '--processes', String(processes), '--threads', '1'];
    const { proc, port } = await startCliAt(cli, args, env);
    tracked.push(proc);
    const line = () => /FTPS: AUTH TLS, implicit FTPS on 127\.0\.0\.1:(\d+); self-signed certificate made at start, SHA-256 fingerprint ([0-9A-F:]{95})/.exec(proc.stdout().toString());
    expect(await eventually(() => line() !== null, 10_000), proc.stdout().toString()).toBe(true);
    const [, shownPort, fingerprint] = line() ?? [];
    expect(Number(shownPort)).toBe(implicit);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const tc = i % 2 === 0 ? await loginTls('127.0.0.1', port) : await loginImplicit('127.0.0.1', implicit);
      seen.add(tc.socket.getPeerCertificate().fingerprint256);
      tc.destroy();
    }
    expect([...seen]).toEqual([fingerprint]);
    killChild(proc.child, 'SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});

describe('bad TLS settings', () => {
  it.each([
    ['a missing certificate file', ['--tls-cert', '/nonexistent/cert.pem', '--tls-key', '/nonexistent/key.pem'], /--tls-cert .*cannot read it \(ENOENT\)/],
    ['a key with auto', ['--tls-cert', 'auto', '--tls-key', '/etc/hostname'], /--tls-key .*auto makes its own key/],
    ['--tls-required without a certificate', ['--tls-required'], /--tls-required .*needs --tls-cert/],
    ['--implicit-tls-port without a certificate', ['--implicit-tls-port', '9990'], /--implicit-tls-port .*needs --tls-cert/],
    ['a bad --tls-session-reuse', ['--tls-cert', 'auto', '--tls-session-reuse', 'sometimes'], /--tls-session-reuse .*one of required, optional/],
  ])('%s: exit 2, one line naming the flag', async (_name, flags, message) => {
    const r = await run(process.execPath, [cli, '--root', root, '--port', '0', ...flags], { env, timeoutMs: 20_000 });
    expect(r.code, describeRun(r)).toBe(2);
    expect(r.signal).toBeNull();
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(message);
  });

  it('--help lists the FTPS flags', async () => {
    const r = await run(process.execPath, [cli, '--help'], { env });
    for (const flag of ['--tls-cert', '--tls-key', '--tls-required', '--tls-session-reuse', '--implicit-tls-port', '--ktls']) {
      expect(r.stdout.toString()).toContain(flag);
    }
  });
});
