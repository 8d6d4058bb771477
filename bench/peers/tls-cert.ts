// The TLS rows' certificate: one ECDSA P-256 self-signed pair per bench:compare
// run (CN and subjectAltName 127.0.0.1), given to every server, so that each
// full handshake costs every server the same one P-256 signature. Made with
// the openssl CLI (Debian package openssl): Node has no API to issue one.

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { TlsFiles } from './table.js';

/** The openssl command that makes the pair (results.md shows it). */
export function certArgs(files: TlsFiles): string[] {
  return ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '30',
    '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', files.key, '-out', files.cert];
}

/** Makes a new pair in `dir` (mode 700); throws saying why, naming the package when openssl is missing. */
export function makeTlsCert(dir: string): TlsFiles {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const files = { cert: path.join(dir, 'cert.pem'), key: path.join(dir, 'key.pem') };
  const r = spawnSync('openssl', certArgs(files), { encoding: 'utf8' });
  if (r.error) throw new Error('the TLS rows need the openssl program (Debian package openssl)');
  if (r.status !== 0) throw new Error(`openssl req failed: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''}`);
  return files;
}
