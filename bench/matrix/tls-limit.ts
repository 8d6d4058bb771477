// The handshake limit next to the TLS rows: `openssl speed` of the ECDSA P-256
// signature every full handshake costs a server (one per handshake, with the
// certificate all servers share), on one core of this machine.

import { spawnSync } from 'node:child_process';

export interface SignLimit {
  command: string;
  /** P-256 signatures per second, one core. */
  signPerSec: number;
  verifyPerSec: number;
  /** The OpenSSL that measured it. */
  library: string;
}

export const speedArgs = ['speed', '-seconds', '2', 'ecdsap256'];

/**
 * The signatures/s and verifications/s of `openssl speed ecdsap256`'s result
 * line (" 256 bits ecdsa (nistp256)   0.0000s   0.0001s  41234.5  13456.7"), or null.
 */
export function parseSpeed(text: string): { signPerSec: number; verifyPerSec: number } | null {
  const line = text.split('\n').find((l) => /\bbits ecdsa \(nistp256\)/.test(l));
  const f = line?.trim().split(/\s+/) ?? [];
  const sign = Number(f[f.length - 2]);
  const verify = Number(f[f.length - 1]);
  return f.length >= 4 && Number.isFinite(sign) && Number.isFinite(verify) && sign > 0 ? { signPerSec: sign, verifyPerSec: verify } : null;
}

/** Runs it (about 4 s); null when openssl is missing or says nothing readable. */
export function measureSignLimit(): SignLimit | null {
  const r = spawnSync('openssl', speedArgs, { encoding: 'utf8', timeout: 30_000 });
  const parsed = r.status === 0 ? parseSpeed(r.stdout) : null;
  if (!parsed) return null;
  const version = spawnSync('openssl', ['version'], { encoding: 'utf8' });
  return { command: `openssl ${speedArgs.join(' ')}`, ...parsed, library: version.stdout.trim() };
}
