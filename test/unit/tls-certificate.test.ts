// The addon's self-signed certificate (--tls-cert auto), read back by node's
// own X.509 parser: key type, names, validity, and the fingerprint printed.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { loadBinding } from '../../src/engine/native.js';

describe('makeSelfSignedCertificate', () => {
  const made = loadBinding().makeSelfSignedCertificate('ftp.example.test');
  const cert = new X509Certificate(made.cert);

  it('is an ECDSA P-256 certificate for its name, 127.0.0.1 and ::1, signed by its own key', () => {
    expect(cert.publicKey.asymmetricKeyType).toBe('ec');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(cert.subject).toBe('CN=ftp.example.test');
    expect(cert.subjectAltName).toBe('DNS:ftp.example.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    expect(cert.checkPrivateKey(createPrivateKey(made.key))).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(cert.checkHost('ftp.example.test')).toBe('ftp.example.test');
    expect(cert.checkIP('127.0.0.1')).toBe('127.0.0.1');
  });

  it('is valid from an hour ago for a year', () => {
    const from = Date.parse(cert.validFrom);
    const to = Date.parse(cert.validTo);
    expect(Math.abs(Date.now() - 3600_000 - from)).toBeLessThan(120_000);
    expect(to - from).toBe((365 * 24 + 1) * 3600_000);
  });

  it('reports the SHA-256 fingerprint of its DER, as colon-separated upper-case hex', () => {
    expect(made.fingerprint).toBe(cert.fingerprint256);
    expect(made.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('makes a new key each time, and takes an IP address as its name', () => {
    const other = loadBinding().makeSelfSignedCertificate('192.0.2.7');
    expect(other.fingerprint).not.toBe(made.fingerprint);
    expect(new X509Certificate(other.cert).subjectAltName).toContain('IP Address:192.0.2.7');
  });

  it('refuses a name that is not a string', () => {
    expect(() => (loadBinding().makeSelfSignedCertificate as (n: unknown) => unknown)(7)).toThrow(TypeError);
  });
});
