// Buffer's own codecs, called directly on the hot path: write(s, at, 'utf8')
// and toString('latin1') parse their arguments and look the encoding up
// first, on every reply and every line. Each falls back to the documented
// call on a Node without the method.

interface Codecs {
  utf8Write?: (s: string, at: number, length: number) => number;
  latin1Slice?: (start: number, end: number) => string;
}

const proto = Buffer.prototype as unknown as Codecs;
const nativeUtf8Write = proto.utf8Write;
const nativeLatin1Slice = proto.latin1Slice;

const longUtf8Write: (b: Buffer, s: string, at: number) => number = nativeUtf8Write
  ? (b, s, at) => nativeUtf8Write.call(b, s, at, b.length - at)
  : (b, s, at) => b.write(s, at, 'utf8');

/** Up to this many UTF-16 units a string is copied by a JS loop when it is ASCII (a reply, a path): no call into C++. */
const kShort = 128;

/**
 * Writes `s` as UTF-8 into `b` at `at`; returns the bytes written. The
 * caller has made room for it (3 bytes per UTF-16 unit).
 */
export function utf8Write(b: Buffer, s: string, at: number): number {
  const n = s.length;
  if (n <= kShort && at + n <= b.length) {
    let i = 0;
    for (; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      b[at + i] = c;
    }
    if (i === n) return n;
  }
  return longUtf8Write(b, s, at);
}

/** The bytes of `b` as Latin-1 text (one character a byte). */
export const latin1Text: (b: Buffer) => string = nativeLatin1Slice
  ? (b) => nativeLatin1Slice.call(b, 0, b.length)
  : (b) => b.toString('latin1');

/**
 * latin1Text for addresses, which repeat: each session's Open carries its
 * peer and local address, and a load test's thousands of sessions come from a
 * few hosts to one. The last text is kept with its bytes, and given again when
 * the bytes are the same (compared here, with no call into C++).
 */
export class RepeatedText {
  private readonly last = Buffer.alloc(64);
  private lastLength = -1;
  private lastText = '';

  of(b: Buffer): string {
    const n = b.length;
    if (n === this.lastLength) {
      let i = 0;
      while (i < n && b[i] === this.last[i]) i++;
      if (i === n) return this.lastText;
    }
    const text = latin1Text(b);
    if (n <= this.last.length) {
      b.copy(this.last);
      this.lastLength = n;
      this.lastText = text;
    }
    return text;
  }
}
