// The settings rows of FTPS (issue 23, RFC 4217): the certificate and key,
// whether TLS is required, session reuse on data connections, the implicit
// FTPS listener and kernel TLS. Cross-setting rules (a key with a file
// certificate, none with auto) are checked where the files are read, once, at
// start (tls-material.ts).
import type { Setting } from './settings.js';
import { boolean, integer, InvalidValue, oneOf, text } from './validators.js';
import path from 'node:path';

export type SessionReuse = 'required' | 'optional';
export type KtlsMode = 'auto' | 'off';

export interface TlsConfig {
  /**
   * A PEM file (leaf first, then its chain), 'auto', or PEM text: start-up
   * replaces a file or 'auto' by the PEM text it read or made, so that every
   * server process of --processes serves the same certificate.
   */
  tlsCert: string | null;
  /** The private key's PEM file, or PEM text (as tlsCert). */
  tlsKey: string | null;
  tlsRequired: boolean;
  tlsSessionReuse: SessionReuse;
  implicitTlsPort: number | null;
  ktls: KtlsMode;
}

/** What a PEM text starts with: a value holding one is the PEM itself, not a file name. */
export function isPem(value: string): boolean {
  return value.trimStart().startsWith('-----BEGIN ');
}

/** A file path (resolved against the working directory), or PEM text as it is. */
function fileOrPem(raw: unknown): string | null {
  if (raw === null) return null;
  const value = text(raw);
  if (isPem(value)) return value;
  if (value === '' || value.includes('\0')) throw new InvalidValue('must be a PEM file path');
  return path.resolve(value);
}

export const tlsSettings: { readonly [K in keyof TlsConfig]: Setting<TlsConfig[K]> } = {
  tlsCert: {
    flag: '--tls-cert',
    env: 'MUXFTPD_TLS_CERT',
    type: 'file|auto',
    default: null,
    defaultText: 'none (no FTPS: AUTH gets 502)',
    help:
      'serve FTPS (AUTH TLS, RFC 4217) with this PEM certificate (leaf first, then its chain); ' +
      'auto: an ECDSA P-256 self-signed certificate made at start, its SHA-256 fingerprint printed (a stress test needs no files)',
    validate: (raw) => (raw === 'auto' ? 'auto' : fileOrPem(raw)),
  },
  tlsKey: {
    flag: '--tls-key',
    env: 'MUXFTPD_TLS_KEY',
    type: 'file',
    default: null,
    defaultText: 'none (needed with a --tls-cert file, not with auto)',
    help: "the PEM private key of --tls-cert's certificate",
    validate: fileOrPem,
  },
  tlsRequired: {
    flag: '--tls-required',
    env: 'MUXFTPD_TLS_REQUIRED',
    type: 'bool',
    boolean: true,
    default: false,
    defaultText: 'false (clear FTP is served too)',
    help: 'USER and PASS before AUTH TLS get 530, transfers without PROT P get 521, CCC gets 534 (needs --tls-cert)',
    validate: boolean,
  },
  tlsSessionReuse: {
    flag: '--tls-session-reuse',
    env: 'MUXFTPD_TLS_SESSION_REUSE',
    type: 'required|optional',
    default: 'required',
    defaultText: 'required (as vsftpd and proftpd)',
    help:
      "whether a PROT P data connection must resume the control connection's TLS session; " +
      'required stops another client from taking the data connection (one that does not resume gets 522)',
    validate: oneOf(['required', 'optional'] as const),
  },
  implicitTlsPort: {
    flag: '--implicit-tls-port',
    env: 'MUXFTPD_IMPLICIT_TLS_PORT',
    type: 'port',
    default: null,
    defaultText: 'off',
    help: 'also listen on this port of --host for implicit FTPS: TLS before the 220 (conventionally 990; 0: any free port; needs --tls-cert)',
    validate: (raw) => (raw === null || raw === 'off' ? null : integer(0, 65535)(raw)),
  },
  ktls: {
    flag: '--ktls',
    env: 'MUXFTPD_KTLS',
    type: 'auto|off',
    default: 'auto',
    defaultText: 'auto (where the kernel has TLS and the cipher allows it)',
    help: 'kernel TLS for PROT P downloads: sendfile on an encrypted socket',
    validate: oneOf(['auto', 'off'] as const),
  },
};
