// One decoded control line → verb and argument (RFC 959 4.1, 5.3).
import { Code, type Reply, reply } from './replies.js';

export type Parsed =
  | { readonly ok: true; readonly verb: string; readonly arg: string }
  | { readonly ok: false; readonly reply: Reply };

const emptyLine: Parsed = { ok: false, reply: reply(Code.SyntaxError, 'Empty command.') };
const nulInLine: Parsed = { ok: false, reply: reply(Code.SyntaxErrorArgs, 'NUL is not allowed in commands.') };

/**
 * The verb is everything up to the first space, upper-cased; the argument is
 * everything after that space, inner and trailing spaces kept (file names may
 * have them). An argument of spaces only counts as none. Trailing CRs are
 * dropped (a client that ends lines with CR CR LF, or the framer splitting on
 * LF alone); CR NUL stands for a CR inside a path (RFC 2640 3.1); any other
 * NUL is refused.
 */
export function parseLine(text: string): Parsed {
  let line = text;
  let end = line.length;
  while (end > 0 && line.charCodeAt(end - 1) === 13) end--;
  if (end !== line.length) line = line.slice(0, end);
  if (line.includes('\0')) {
    line = line.replaceAll('\r\0', '\r');
    if (line.includes('\0')) return nulInLine;
  }
  let start = 0;
  while (start < line.length && line.charCodeAt(start) === 32) start++;
  if (start === line.length) return emptyLine;
  const space = line.indexOf(' ', start);
  if (space === -1) return { ok: true, verb: upper(line.slice(start)), arg: '' };
  const arg = line.slice(space + 1);
  return { ok: true, verb: upper(line.slice(start, space)), arg: arg.trim() === '' ? '' : arg };
}

/** toUpperCase, skipped for a verb without lower-case ASCII (nearly all): it is a call into V8's runtime. */
function upper(verb: string): string {
  for (let i = 0; i < verb.length; i++) {
    const c = verb.charCodeAt(i);
    if ((c >= 97 && c <= 122) || c > 127) return verb.toUpperCase();
  }
  return verb;
}
