// Failed logins per address over a sliding window (--max-login-failures-per-ip,
// --login-failure-window), on a clock given by the test.
import { describe, expect, it } from 'vitest';
import { FailedLogins } from '../../src/auth/failed-logins.js';

const s = 1000;

describe('FailedLogins', () => {
  it('blocks an address at its max-th failure within the window, until the oldest leaves it', () => {
    const f = new FailedLogins(3, 60 * s);
    expect([f.record('10.0.0.1', 0), f.record('10.0.0.1', 10 * s)]).toEqual([false, false]);
    expect(f.blocked('10.0.0.1', 20 * s)).toBe(false);
    expect(f.record('10.0.0.1', 20 * s)).toBe(true);
    expect(f.blocked('10.0.0.1', 20 * s)).toBe(true);
    expect(f.blocked('10.0.0.1', 60 * s - 1)).toBe(true);
    // The failure at 0 left the window: one more may be tried, and its failure blocks again.
    expect(f.blocked('10.0.0.1', 60 * s)).toBe(false);
    expect(f.record('10.0.0.1', 60 * s)).toBe(true);
    expect(f.blocked('10.0.0.1', 70 * s - 1)).toBe(true);
    expect(f.blocked('10.0.0.1', 70 * s)).toBe(false);
  });

  it('counts each address on its own; an IPv4-mapped address is its IPv4 address', () => {
    const f = new FailedLogins(2, 60 * s);
    f.record('10.0.0.1', 0);
    f.record('::ffff:10.0.0.1', 1);
    expect(f.blocked('10.0.0.1', 2)).toBe(true);
    expect(f.blocked('10.0.0.2', 2)).toBe(false);
    expect(f.blocked('2001:db8::1', 2)).toBe(false);
  });

  it('with a max of 0 never blocks and keeps nothing', () => {
    const f = new FailedLogins(0, 60 * s);
    for (let i = 0; i < 100; i++) expect(f.record('10.0.0.1', i)).toBe(false);
    expect(f.blocked('10.0.0.1', 100)).toBe(false);
    expect(f.addresses).toBe(0);
  });

  it('prune() forgets the addresses whose failures all left the window', () => {
    const f = new FailedLogins(5, 60 * s);
    f.record('10.0.0.1', 0);
    f.record('10.0.0.2', 30 * s);
    f.prune(60 * s);
    expect(f.addresses).toBe(1);
    f.prune(90 * s);
    expect(f.addresses).toBe(0);
  });
});
