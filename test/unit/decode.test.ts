import { describe, expect, it } from 'vitest';
import { decodeLine } from '../../src/protocol/decode.js';

const IAC = 0xff;
const IP = 244;
const DM = 242;
const bytes = (...parts: (string | number)[]) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from([p]))));

describe('decodeLine', () => {
  it('decodes plain ASCII and UTF-8', () => {
    expect(decodeLine(bytes('NOOP'))).toBe('NOOP');
    expect(decodeLine(bytes('RETR é'))).toBe('RETR é');
  });

  it('strips IAC IP IAC DM before ABOR (RFC 959 4.1.3 abort sequence)', () => {
    expect(decodeLine(bytes(IAC, IP, IAC, DM, 'ABOR'))).toBe('ABOR');
  });

  it('strips IAC IP IAC when the DM left the stream as urgent data', () => {
    expect(decodeLine(bytes(IAC, IP, IAC, 'ABOR'))).toBe('ABOR');
  });

  it('drops option negotiation (IAC WILL/WONT/DO/DONT option)', () => {
    expect(decodeLine(bytes(IAC, 251, 1, 'NO', IAC, 254, 3, 'OP'))).toBe('NOOP');
  });

  it('drops a subnegotiation IAC SB … IAC SE', () => {
    expect(decodeLine(bytes(IAC, 250, 24, 1, 2, IAC, 240, 'NOOP'))).toBe('NOOP');
  });

  it('turns IAC IAC into one 0xFF byte (which is then not UTF-8)', () => {
    expect(decodeLine(bytes('RETR ', IAC, IAC))).toBeUndefined();
  });

  it('returns undefined for invalid UTF-8', () => {
    expect(decodeLine(bytes('USER ', 0xc3, 0x28))).toBeUndefined();
  });
});
