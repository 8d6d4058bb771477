import { describe, expect, it } from 'vitest';
import { Code, formatReply, multiline, reply } from '../../src/protocol/replies.js';

describe('formatReply', () => {
  it('formats a single-line reply with CRLF', () => {
    expect(formatReply(reply(Code.CommandOk, 'NOOP ok.'))).toBe('200 NOOP ok.\r\n');
  });

  it('formats a multi-line reply per RFC 959 4.2 with indented body lines', () => {
    expect(formatReply(multiline(Code.SystemStatus, 'Features:', ['SIZE'], 'End'))).toBe(
      '211-Features:\r\n SIZE\r\n211 End\r\n',
    );
  });

  it('indents body lines so that one starting with digits cannot end the reply', () => {
    expect(formatReply(multiline(Code.HelpMessage, 'x', ['214 fake'], 'Done'))).toBe('214-x\r\n 214 fake\r\n214 Done\r\n');
  });

  it('formats a multi-line reply with no body lines', () => {
    expect(formatReply(multiline(Code.SystemStatus, 'Features:', [], 'End'))).toBe('211-Features:\r\n211 End\r\n');
  });

  it('cannot be split by a CR or LF in echoed text (CR → CR NUL, LF → NUL)', () => {
    expect(formatReply(reply(Code.PathCreated, '"/a\r\nb"'))).toBe('257 "/a\r\0\0b"\r\n');
    expect(formatReply(multiline(Code.FileStatus, 'x\ny', ['a\nb'], 'e\r'))).toBe('213-x\0y\r\n a\0b\r\n213 e\r\0\r\n');
  });

  it('has every code in the FTP range and unique', () => {
    const codes = Object.values(Code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const c of codes) expect(c >= 100 && c < 600).toBe(true);
  });
});
