// Password hashes for the accounts file: scrypt from node:crypto, stored as
// scrypt$N$r$p$salt$key (salt and key base64url). Making a hash
// (--hash-password, once per run of the CLI) uses libuv's thread pool; the
// server checks passwords on a pool of its own (password-pool.ts), never on
// libuv's, which every file-system call waits in.
import { randomBytes, scrypt } from 'node:crypto';

export interface PasswordHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

/** About 50 ms and 16 MiB per check on a current CPU (OWASP's scrypt floor is N=2^17 for interactive logins; a load test logs in far more often). */
const defaults = { N: 16384, r: 8, p: 1 } as const;
const keyLength = 32;

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
  maxmem: number;
}

/** The options of crypto.scrypt(Sync) for `h`'s parameters. */
export function scryptParams(h: Pick<PasswordHash, 'N' | 'r' | 'p'>): ScryptParams {
  // maxmem: scrypt needs 128 * N * r bytes; leave room above node's 32 MiB default for larger N.
  return { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r };
}

function derive(password: string, salt: Buffer, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password, salt, length, scryptParams(defaults), (e, key) => (e === null ? resolve(key) : reject(e)));
  });
}

/** A new hash of `password` with a random salt, in the form the accounts file holds. */
export async function hashPassword(password: string): Promise<string> {
  return formatHash(await makeHash(password));
}

export async function makeHash(password: string): Promise<PasswordHash> {
  const salt = randomBytes(16);
  return { ...defaults, salt, key: await derive(password, salt, keyLength) };
}

export function formatHash(h: PasswordHash): string {
  return `scrypt$${h.N}$${h.r}$${h.p}$${h.salt.toString('base64url')}$${h.key.toString('base64url')}`;
}

/** The parsed hash, or undefined when `text` is not one this module writes. */
export function parseHash(text: string): PasswordHash | undefined {
  const m = /^scrypt\$(\d{1,8})\$(\d{1,3})\$(\d{1,3})\$([A-Za-z0-9_-]{11,})\$([A-Za-z0-9_-]{22,})$/.exec(text);
  if (m === null) return undefined;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // N must be a power of two above 1 (RFC 7914 2); r and p at least 1.
  if (N < 2 || (N & (N - 1)) !== 0 || r < 1 || p < 1) return undefined;
  return { N, r, p, salt: Buffer.from(m[4] ?? '', 'base64url'), key: Buffer.from(m[5] ?? '', 'base64url') };
}

/**
 * A hash no password matches (its key is random, not derived), with the
 * default parameters: checking a password against it costs what checking a
 * real one does, so an unknown name takes as long as a wrong password.
 */
export function decoyHash(): PasswordHash {
  return { ...defaults, salt: randomBytes(16), key: randomBytes(keyLength) };
}
