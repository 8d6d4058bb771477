// Control-line bytes → text. The native framer hands over one line without
// its CRLF; here Telnet commands are removed and the rest is decoded as UTF-8.
import { isUtf8 } from 'node:buffer';
import { latin1Text } from './bytes.js';

const IAC = 0xff;
const SB = 250;
const SE = 240;
const WILL = 251;
const DONT = 254;
const subnegotiationEnd = Buffer.from([IAC, SE]);

/**
 * Returns the line's text, or undefined when it is not valid UTF-8.
 *
 * Telnet (RFC 854) inside a control line: IAC IAC is a literal 0xFF; IAC
 * WILL/WONT/DO/DONT carries an option byte; IAC SB … IAC SE is a
 * subnegotiation; IAC IP, IAC DM and the other two-byte commands are dropped
 * (ABOR from lftp and RFC 959 4.1.3 clients comes as IAC IP IAC DM ABOR). When
 * the DM was sent urgent and left the stream, the line reads IAC IP IAC ABOR:
 * an IAC before a byte that is no Telnet command is dropped alone.
 */
export function decodeLine(line: Buffer): string | undefined {
  // Most lines are ASCII: one pass over the bytes here, then one copy, where
  // indexOf, isUtf8 and toString are three calls into C++ per line. An IAC
  // (0xFF) is not ASCII, so such a line takes the long way.
  let i = 0;
  while (i < line.length && (line[i] as number) < 0x80) i++;
  if (i === line.length) return latin1Text(line);
  const bytes = line.indexOf(IAC) === -1 ? line : stripTelnet(line);
  return isUtf8(bytes) ? bytes.toString('utf8') : undefined;
}

function stripTelnet(line: Buffer): Buffer {
  const out = Buffer.allocUnsafe(line.length);
  let n = 0;
  let i = 0;
  while (i < line.length) {
    const b = line[i] as number;
    if (b !== IAC) {
      out[n++] = b;
      i += 1;
      continue;
    }
    const cmd = line[i + 1];
    if (cmd === IAC) {
      out[n++] = IAC;
      i += 2;
    } else if (cmd === SB) {
      const end = line.indexOf(subnegotiationEnd, i + 2);
      i = end === -1 ? line.length : end + 2;
    } else if (cmd !== undefined && cmd >= WILL && cmd <= DONT) {
      i += 3;
    } else if (cmd !== undefined && cmd >= SE) {
      i += 2;
    } else {
      i += 1;
    }
  }
  return out.subarray(0, n);
}
