// protocol/bytes.ts: the hot-path codecs agree with Buffer's own.
import { describe, expect, it } from 'vitest';
import { latin1Text, RepeatedText, utf8Write } from '../../src/protocol/bytes.js';

describe('utf8Write and latin1Text', () => {
  it('write and read what Buffer does, ASCII and not, short and long', () => {
    for (const s of ['', 'NOOP', '226 Transfer complete.\r\n', 'RETR é/日本.txt', 'x'.repeat(300), `${'y'.repeat(200)}é`]) {
      const b = Buffer.alloc(s.length * 3 + 8);
      const n = utf8Write(b, s, 4);
      expect(b.subarray(4, 4 + n).toString('utf8')).toBe(s);
      expect(n).toBe(Buffer.byteLength(s));
    }
    const bytes = Buffer.from([0x41, 0xe9, 0xff, 0x00, 0x7a]);
    expect(latin1Text(bytes)).toBe(bytes.toString('latin1'));
  });
});

describe('RepeatedText', () => {
  it('gives each address its own text, the same bytes again the same text, and never a stale one', () => {
    const t = new RepeatedText();
    const seen = ['127.0.0.1', '127.0.0.1', '127.0.0.2', '10.0.0.1', '127.0.0.2', '::1', 'fe80::1%eth0', '127.0.0.1'];
    for (const address of seen) expect(t.of(Buffer.from(address, 'latin1'))).toBe(address);
    // Same length, one byte apart; and a view into a bigger buffer.
    const batch = Buffer.from('xx127.0.0.9yy', 'latin1');
    expect(t.of(Buffer.from('127.0.0.8', 'latin1'))).toBe('127.0.0.8');
    expect(t.of(batch.subarray(2, 11))).toBe('127.0.0.9');
    // Longer than it keeps: still right, every time.
    const long = 'a'.repeat(100);
    expect(t.of(Buffer.from(long))).toBe(long);
    expect(t.of(Buffer.from(long))).toBe(long);
    expect(t.of(Buffer.alloc(0))).toBe('');
  });
});
