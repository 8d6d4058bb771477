// The password threads (issue 20): answers that agree with crypto.scryptSync,
// a bounded queue, checks dropped when no longer wanted, and close() that
// ends every thread and answers every check.
import { scryptSync } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { PasswordPool } from '../../src/auth/password-pool.js';
import { type PasswordHash, parseHash, scryptParams } from '../../src/auth/password.js';

const threads = () => readdirSync('/proc/self/task').length;

/** A hash made here with scryptSync, independently of the pool. */
function hashOf(password: string): PasswordHash {
  const salt = Buffer.from('0123456789abcdef');
  const params = { N: 1024, r: 8, p: 1 };
  return { ...params, salt, key: scryptSync(password, salt, 32, scryptParams(params)) };
}

describe('PasswordPool', () => {
  const baseline = threads();
  const pools: PasswordPool[] = [];
  const pool = (n: number, queue: number) => {
    const p = new PasswordPool(n, queue);
    pools.push(p);
    return p;
  };
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('agrees with crypto.scryptSync: the right password matches, any other does not', async () => {
    const p = pool(2, 10);
    const hash = hashOf('right');
    expect(await Promise.all([p.check('right', hash), p.check('wrong', hash), p.check('', hash), p.check('right ', hash)])).toEqual([
      'match',
      'mismatch',
      'mismatch',
      'mismatch',
    ]);
    // The form the accounts file stores works too.
    const stored = parseHash(`scrypt$1024$8$1$${hash.salt.toString('base64url')}$${hash.key.toString('base64url')}`);
    expect(stored !== undefined && (await p.check('right', stored))).toBe('match');
  });

  it('refuses a check at once when its threads are busy and the queue is full', async () => {
    const p = pool(1, 1);
    const hash = hashOf('x');
    const running = p.check('a', hash);
    const waiting = p.check('b', hash);
    expect(p.stats()).toEqual({ running: 1, waiting: 1 });
    expect(await p.check('c', hash)).toBe('busy');
    expect(await Promise.all([running, waiting])).toEqual(['mismatch', 'mismatch']);
    expect(p.stats()).toEqual({ running: 0, waiting: 0 });
  });

  it('with a queue of 0, runs as many checks as it has threads and refuses the rest', async () => {
    const p = pool(2, 0);
    const hash = hashOf('x');
    const checks = [p.check('x', hash), p.check('y', hash), p.check('z', hash)];
    expect(await Promise.all(checks)).toEqual(['match', 'mismatch', 'busy']);
  });

  it('drops a waiting check that is no longer wanted when a thread comes free', async () => {
    const p = pool(1, 5);
    const hash = hashOf('x');
    let wanted = true;
    const first = p.check('x', hash);
    const second = p.check('x', hash, () => wanted);
    wanted = false;
    expect(await Promise.all([first, second])).toEqual(['match', 'skipped']);
  });

  it('rejects a check scrypt refuses (bad parameters), and goes on serving', async () => {
    const p = pool(1, 5);
    const bad: PasswordHash = { ...hashOf('x'), N: 1000 };
    await expect(p.check('x', bad)).rejects.toThrow(/password check failed/);
    expect(await p.check('x', hashOf('x'))).toBe('match');
  });

  it('close() answers running and waiting checks with stopped, later ones too, and ends its threads', async () => {
    const before = threads();
    const p = new PasswordPool(2, 5);
    const hash = hashOf('x');
    const checks = [p.check('x', hash), p.check('x', hash), p.check('x', hash)];
    expect(threads()).toBe(before + 2);
    await p.close();
    expect(await Promise.all(checks)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(await p.check('x', hash)).toBe('stopped');
    expect(threads()).toBe(before);
  });

  it('leaves no thread behind once every pool is closed', async () => {
    await Promise.all(pools.map((p) => p.close()));
    expect(threads()).toBe(baseline);
  });
});
