// The pure parts of the middlebox instrument (docs/middlebox.md): the address
// classes, --pasv-address-map's choice and its validation, and the rate of
// mismatch log lines.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { announcedPasvAddress } from '../../src/config/pasv-address.js';
import { ConfigError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { classifyActive, isPrivateScope, MismatchLog } from '../../src/ops/address-truth.js';

describe('address classes of active data connections', () => {
  it('as seen when PORT names the control peer, IPv4-mapped or not', () => {
    expect(classifyActive('203.0.113.5', '203.0.113.5', 'connected')).toBe('activeAsSeen');
    expect(classifyActive('203.0.113.5', '::ffff:203.0.113.5', 'failed')).toBe('activeAsSeen');
    expect(classifyActive('2001:db8::1', '2001:db8:0::1', 'refused')).toBe('activeAsSeen');
  });

  it('not rewritten for a private-scope address, or one the server could not reach', () => {
    for (const a of ['10.1.2.3', '172.31.0.1', '192.168.1.9', '100.64.0.1', '127.0.0.2', '169.254.1.1', 'fd00::5', 'fe80::1']) {
      expect(classifyActive(a, '203.0.113.5', 'connected'), a).toBe('activeNotRewritten');
    }
    expect(classifyActive('198.51.100.7', '203.0.113.5', 'failed')).toBe('activeNotRewritten');
  });

  it('rewritten elsewhere for another public address the server reached (or refused as a bounce)', () => {
    expect(classifyActive('198.51.100.7', '203.0.113.5', 'connected')).toBe('activeRewrittenElsewhere');
    expect(classifyActive('2001:db8::7', '2001:db8::5', 'refused')).toBe('activeRewrittenElsewhere');
  });

  it('knows the private scopes', () => {
    expect(isPrivateScope('::ffff:10.0.0.1')).toBe(true);
    expect(isPrivateScope('172.32.0.1')).toBe(false);
    expect(isPrivateScope('not an address')).toBe(false);
  });
});

describe('--pasv-address-map', () => {
  const config = (map: string, pasvAddress: string | null = null) => loadConfig({ flags: { pasvAddressMap: map }, options: { pasvAddress } });

  it('takes the longest matching prefix, else --pasv-address, else the local address', async () => {
    const c = await config('0.0.0.0/0=198.51.100.1,10.0.0.0/8=10.0.0.1,10.1.0.0/16=10.1.0.1');
    expect(announcedPasvAddress(c, '10.1.2.3', '192.0.2.1')).toBe('10.1.0.1');
    expect(announcedPasvAddress(c, '::ffff:10.9.2.3', '192.0.2.1')).toBe('10.0.0.1');
    expect(announcedPasvAddress(c, '203.0.113.9', '192.0.2.1')).toBe('198.51.100.1');
    const narrow = await config('10.0.0.0/8=10.0.0.1', '192.0.2.50');
    expect(announcedPasvAddress(narrow, '203.0.113.9', '192.0.2.1')).toBe('192.0.2.50');
    const none = await config('');
    expect(announcedPasvAddress(none, '203.0.113.9', '192.0.2.1')).toBe('192.0.2.1');
  });

  it('stops the start with one line naming a bad entry', async () => {
    for (const bad of ['10.0.0.0/33=1.2.3.4', '10.0.0.0=1.2.3.4', '10.0.0.0/8=example.com', '10.0.0.0/8', 'fd00::/8=1.2.3.4']) {
      const e = await config(bad).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(e, bad).toBeInstanceOf(ConfigError);
      expect(String((e as Error).message), bad).toMatch(/--pasv-address-map/);
      expect(String((e as Error).message)).not.toContain('\n');
    }
  });
});

describe('MismatchLog', () => {
  it('writes at most its share per window and says how many it left out', () => {
    const lines: string[] = [];
    const log = new MismatchLog(createLogger('warn', (l) => lines.push(l)), 2, 1000);
    for (let i = 0; i < 5; i++) log.note(`mismatch ${i}`, { i }, 10_000);
    expect(lines).toHaveLength(2);
    log.note('mismatch 5', {}, 11_000);
    expect(lines).toHaveLength(4);
    expect(lines[2]).toContain('3 more data address mismatches not logged');
    expect(lines[3]).toContain('mismatch 5');
  });
});
