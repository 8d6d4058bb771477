import { describe, expect, it } from 'vitest';
import { factsLine, mlstFacts, mlstFeature, permFact, selectFacts, timeVal, typeFact } from '../../src/vfs/facts.js';

const stats = (dir: boolean, mode = dir ? 0o40755 : 0o100644) => ({
  mode,
  size: 1234,
  mtime: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
  dev: 0x801n,
  ino: 0xabcn,
});

describe('RFC 3659 facts', () => {
  it('writes a fact line: selected facts in order, a space, the name', () => {
    expect(factsLine({ name: 'a b.txt', stats: stats(false) }, mlstFacts, false)).toBe(
      'type=file;size=1234;modify=20240102030405;perm=r;unique=801Uabc; a b.txt',
    );
    expect(factsLine({ name: 'd', stats: stats(true) }, ['type', 'perm'], true)).toBe('type=dir;perm=cdeflmp; d');
    expect(factsLine({ name: 'x', stats: stats(false) }, [], false)).toBe(' x');
  });

  it('perm follows what the session may do', () => {
    expect([permFact('file', false), permFact('file', true), permFact('dir', false)]).toEqual(['r', 'adfrw', 'el']);
    expect([permFact('OS.unix=fifo', false), permFact('OS.unix=fifo', true)]).toEqual(['', 'df']);
  });

  it('types what is neither a file nor a directory as OS.unix= (RFC 3659 7.5.1)', () => {
    expect([0o100644, 0o40755, 0o10644, 0o140755, 0o20666, 0o60660].map(typeFact)).toEqual([
      'file',
      'dir',
      'OS.unix=fifo',
      'OS.unix=socket',
      'OS.unix=chr',
      'OS.unix=blk',
    ]);
    expect(factsLine({ name: 'p', stats: stats(false, 0o10644) }, ['type', 'size', 'perm'], false)).toBe('type=OS.unix=fifo;size=1234;perm=; p');
  });

  it('OPTS MLST keeps known facts in the server order, case-insensitively', () => {
    expect(selectFacts('Size;TYPE;nope;')).toEqual(['type', 'size']);
    expect(selectFacts('')).toEqual([]);
  });

  it('FEAT marks the selected facts', () => {
    expect(mlstFeature(mlstFacts)).toBe('MLST type*;size*;modify*;perm*;unique*;');
    expect(mlstFeature(['size'])).toBe('MLST type;size*;modify;perm;unique;');
  });

  it('times are UTC YYYYMMDDHHMMSS', () => {
    expect(timeVal(new Date(Date.UTC(1999, 11, 31, 23, 59, 58)))).toBe('19991231235958');
  });
});
