// --tls-cert and --tls-key resolved at start (src/config/tls-material.ts):
// auto makes one ECDSA P-256 certificate; files are read and checked, each
// mistake a one-line ConfigError naming the flag; resolving twice changes
// nothing (what the server processes of --processes do).
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { resolveConfig } from '../../src/config/resolve.js';
import { fingerprintOf, nativeTlsOf } from '../../src/config/tls-material.js';
import { loadBinding } from '../../src/engine/native.js';
import { ConfigError } from '../../src/errors.js';

let dir: string;
const a = loadBinding().makeSelfSignedCertificate('a.test');
const b = loadBinding().makeSelfSignedCertificate('b.test');
const files = { certA: '', keyA: '', keyB: '', both: '', junk: '', missing: '' };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-tls-'));
  const write = async (name: string, text: string) => {
    const file = path.join(dir, name);
    await writeFile(file, text);
    return file;
  };
  files.certA = await write('a.crt', a.cert);
  files.keyA = await write('a.key', a.key);
  files.keyB = await write('b.key', b.key);
  files.both = await write('both.pem', a.cert + a.key);
  files.junk = await write('junk.pem', 'not a certificate\n');
  files.missing = path.join(dir, 'missing.pem');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function resolved(options: Record<string, unknown>) {
  return resolveConfig(await loadConfig({ options: { root: os.tmpdir(), ...options } }));
}

async function failure(options: Record<string, unknown>): Promise<ConfigError> {
  const e = await resolved(options).then(() => undefined, (err: unknown) => err);
  if (!(e instanceof ConfigError)) throw new Error(`expected a ConfigError, got ${String(e)}`);
  return e;
}

describe('--tls-cert auto', () => {
  it('makes an ECDSA P-256 certificate and its key, once: resolving again keeps them', async () => {
    const first = await resolved({ tlsCert: 'auto' });
    expect(first.tlsCert).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const cert = new X509Certificate(first.tlsCert ?? '');
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    const again = await resolveConfig(first);
    expect(again.tlsCert).toBe(first.tlsCert);
    expect(again.tlsKey).toBe(first.tlsKey);
    expect(fingerprintOf(first.tlsCert ?? '')).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it("the addon's fingerprint is the certificate's SHA-256", () => {
    expect(a.fingerprint).toBe(fingerprintOf(a.cert));
  });

  it('refuses a --tls-key beside it', async () => {
    expect((await failure({ tlsCert: 'auto', tlsKey: files.keyA })).code).toBe('MUXFTPD_ERR_BAD_TLS_KEY');
  });
});

describe('--tls-cert FILE', () => {
  it('reads the certificate and its key; the engine gets the PEM text', async () => {
    const config = await resolved({ tlsCert: files.certA, tlsKey: files.keyA, implicitTlsPort: 990, tlsSessionReuse: 'optional' });
    expect(fingerprintOf(config.tlsCert ?? '')).toBe(a.fingerprint);
    expect(nativeTlsOf(config)).toMatchObject({ cert: a.cert, sessionReuse: 'optional', implicitPort: 990, ktls: 'auto' });
  });

  it('takes the key from the certificate file when --tls-key is not given', async () => {
    const config = await resolved({ tlsCert: files.both });
    expect(config.tlsKey).toMatch(/PRIVATE KEY/);
  });

  it.each([
    ['a missing certificate', () => ({ tlsCert: files.missing, tlsKey: files.keyA }), 'MUXFTPD_ERR_BAD_TLS_CERT', /cannot read it \(ENOENT\)/],
    ['a file that is no certificate', () => ({ tlsCert: files.junk, tlsKey: files.keyA }), 'MUXFTPD_ERR_BAD_TLS_CERT', /no PEM certificate/],
    ['a missing key', () => ({ tlsCert: files.certA, tlsKey: files.missing }), 'MUXFTPD_ERR_BAD_TLS_KEY', /cannot read it/],
    ['a file that is no key', () => ({ tlsCert: files.certA, tlsKey: files.junk }), 'MUXFTPD_ERR_BAD_TLS_KEY', /no unencrypted PEM private key/],
    ['no key anywhere', () => ({ tlsCert: files.certA }), 'MUXFTPD_ERR_BAD_TLS_CERT', /give --tls-key/],
    ["another certificate's key", () => ({ tlsCert: files.certA, tlsKey: files.keyB }), 'MUXFTPD_ERR_BAD_TLS_KEY', /is not the key of/],
    ['--tls-required without a certificate', () => ({ tlsRequired: true }), 'MUXFTPD_ERR_BAD_TLS_REQUIRED', /needs --tls-cert/],
    ['--implicit-tls-port without a certificate', () => ({ implicitTlsPort: 990 }), 'MUXFTPD_ERR_BAD_IMPLICIT_TLS_PORT', /needs --tls-cert/],
  ])('refuses %s with a one-line error naming the flag', async (_name, options, code, message) => {
    const e = await failure(options());
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('\n');
  });

  it('never echoes PEM text given as a value', async () => {
    const e = await failure({ tlsCert: a.cert, tlsKey: b.key });
    expect(e.message).toContain('(PEM text)');
    expect(e.message).not.toContain('BEGIN');
  });
});
