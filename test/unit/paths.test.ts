// The lexical first line of path handling. What a path names is the kernel's
// to say, beneath the session's directory: native/test/file_ops_test.cc, and
// the integration tests (limits-paths, confinement-race).
import { describe, expect, it } from 'vitest';
import { joinVirtual, relativeOf } from '../../src/vfs/paths.js';

describe('joinVirtual', () => {
  it('joins a relative argument to the cwd', () => {
    expect(joinVirtual('/a', 'b/c')).toBe('/a/b/c');
  });

  it('takes an absolute argument as is', () => {
    expect(joinVirtual('/a', '/x/y')).toBe('/x/y');
  });

  it('never goes above / with ..', () => {
    expect(joinVirtual('/', '..')).toBe('/');
    expect(joinVirtual('/a', '../../../etc/passwd')).toBe('/etc/passwd');
    expect(joinVirtual('/a/b', '..')).toBe('/a');
  });

  it('drops . and empty segments', () => {
    expect(joinVirtual('/a', './/b/./')).toBe('/a/b');
  });

  it('treats encoded or foreign separators as plain name characters', () => {
    expect(joinVirtual('/', '..%2F..%2Fetc')).toBe('/..%2F..%2Fetc');
    expect(joinVirtual('/', '..\\..\\etc')).toBe('/..\\..\\etc');
  });

  it('refuses NUL with 501', () => {
    expect(() => joinVirtual('/', 'a\0b')).toThrow(expect.objectContaining({ code: 501 }));
  });

  it('takes a plain name in / the short way, with the same result', () => {
    expect(joinVirtual('/', 'small.bin')).toBe('/small.bin');
    expect(joinVirtual('/', '...')).toBe('/...');
    expect(joinVirtual('/', ' a ')).toBe('/ a ');
    expect(joinVirtual('/', '.')).toBe('/');
    expect(joinVirtual('/', '')).toBe('/');
    expect(() => joinVirtual('/', '\0')).toThrow(expect.objectContaining({ code: 501 }));
  });

  it('maps virtual paths to engine paths', () => {
    expect(relativeOf('/')).toBe('.');
    expect(relativeOf('/a/b')).toBe('a/b');
  });
});
