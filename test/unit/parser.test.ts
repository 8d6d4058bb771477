import { describe, expect, it } from 'vitest';
import { parseLine } from '../../src/protocol/parser.js';

function ok(line: string): { verb: string; arg: string } {
  const p = parseLine(line);
  if (!p.ok) throw new Error(`refused: ${p.reply.code} ${p.reply.text}`);
  return { verb: p.verb, arg: p.arg };
}

function refusal(line: string): number {
  const p = parseLine(line);
  if (p.ok) throw new Error('accepted');
  return p.reply.code;
}

describe('parseLine', () => {
  it('splits verb and argument at the first space', () => {
    expect(ok('RETR file.txt')).toEqual({ verb: 'RETR', arg: 'file.txt' });
  });

  it('takes a verb alone with an empty argument', () => {
    expect(ok('NOOP')).toEqual({ verb: 'NOOP', arg: '' });
  });

  it('upper-cases the verb only (RFC 959 5.3: commands are case-insensitive)', () => {
    expect(ok('retr File.TXT')).toEqual({ verb: 'RETR', arg: 'File.TXT' });
    expect(ok('Cwd Dir')).toEqual({ verb: 'CWD', arg: 'Dir' });
  });

  it('keeps spaces inside and around an argument (file names may have them)', () => {
    expect(ok('RETR my file.txt')).toEqual({ verb: 'RETR', arg: 'my file.txt' });
    expect(ok('RETR  lead')).toEqual({ verb: 'RETR', arg: ' lead' });
    expect(ok('RETR trail ')).toEqual({ verb: 'RETR', arg: 'trail ' });
  });

  it('counts an argument of spaces only as none', () => {
    expect(ok('PWD ')).toEqual({ verb: 'PWD', arg: '' });
    expect(ok('PWD    ')).toEqual({ verb: 'PWD', arg: '' });
  });

  it('tolerates leading spaces before the verb', () => {
    expect(ok('  NOOP')).toEqual({ verb: 'NOOP', arg: '' });
  });

  it('drops a trailing CR (line ended by CR LF where the framer cut at LF)', () => {
    expect(ok('NOOP\r')).toEqual({ verb: 'NOOP', arg: '' });
    expect(ok('RETR a\r\r')).toEqual({ verb: 'RETR', arg: 'a' });
  });

  it('keeps a bare CR inside the line as a character', () => {
    expect(ok('RETR a\rb')).toEqual({ verb: 'RETR', arg: 'a\rb' });
  });

  it('reads CR NUL as a CR inside a path (RFC 2640 3.1)', () => {
    expect(ok('RETR a\r\0b')).toEqual({ verb: 'RETR', arg: 'a\rb' });
  });

  it('refuses any other NUL with 501', () => {
    expect(refusal('RETR a\0b')).toBe(501);
    expect(refusal('NO\0OP')).toBe(501);
  });

  it('refuses an empty line with 500', () => {
    expect(refusal('')).toBe(500);
    expect(refusal('   ')).toBe(500);
    expect(refusal('\r')).toBe(500);
  });

  it('keeps UTF-8 arguments as they are', () => {
    expect(ok('RETR café/日本.txt')).toEqual({ verb: 'RETR', arg: 'café/日本.txt' });
  });

  it('does not split at a TAB (only SP separates, RFC 959 5.3.2)', () => {
    expect(ok('RETR\tx')).toEqual({ verb: 'RETR\tX', arg: '' });
  });
});
