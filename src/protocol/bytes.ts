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

/** Writes `s` as UTF-8 into `b` at `at`; returns the bytes written (as b.write, which may cut at the end of b). */
export const utf8Write: (b: Buffer, s: string, at: number) => number = nativeUtf8Write
  ? (b, s, at) => nativeUtf8Write.call(b, s, at, b.length - at)
  : (b, s, at) => b.write(s, at, 'utf8');

/** The bytes of `b` as Latin-1 text (one character a byte). */
export const latin1Text: (b: Buffer) => string = nativeLatin1Slice
  ? (b) => nativeLatin1Slice.call(b, 0, b.length)
  : (b) => b.toString('latin1');
