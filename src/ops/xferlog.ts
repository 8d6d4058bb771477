// The classic transfer log of wu-ftpd, which vsftpd (xferlog_std_format) and
// proftpd write too, so that existing parsers and reports keep working:
//
//   current-time  transfer-time remote-host file-size filename transfer-type
//   special-action-flag direction access-mode username service-name
//   authentication-method authenticated-user-id completion-status
//
//   Thu Mar  4 08:12:30 2004 1 10.0.0.7 37 /pub/a.html b _ o a anonymous ftp 0 * c
import { createWriteStream, type WriteStream } from 'node:fs';

export interface XferRecord {
  end: Date;
  seconds: number;
  host: string;
  bytes: number;
  /** The file as the client named it, from the served root. */
  path: string;
  binary: boolean;
  direction: 'o' | 'i';
  anonymous: boolean;
  user: string;
  complete: boolean;
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ctime(3) form, local time: 'Thu Mar  4 08:12:30 2004'. */
function ctime(t: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  const clock = `${two(t.getHours())}:${two(t.getMinutes())}:${two(t.getSeconds())}`;
  return `${days[t.getDay()]} ${months[t.getMonth()]} ${String(t.getDate()).padStart(2, ' ')} ${clock} ${t.getFullYear()}`;
}

/** Fields are space-separated: spaces (and line breaks) in names and users become '_', as vsftpd writes them. */
const field = (s: string) => (s === '' ? '_' : s.replace(/[\s]/g, '_'));

export function xferlogLine(r: XferRecord): string {
  return [
    ctime(r.end),
    Math.round(r.seconds),
    r.host,
    r.bytes,
    field(r.path),
    r.binary ? 'b' : 'a',
    '_',
    r.direction,
    r.anonymous ? 'a' : 'r',
    field(r.user),
    'ftp',
    0,
    '*',
    r.complete ? 'c' : 'i',
  ].join(' ');
}

/**
 * An open transfer log: lines are appended through one buffered stream.
 * reopen() (on SIGHUP) opens the file again by its name, as daemons do for
 * logrotate: lines written before it end in the file that was moved away.
 */
export class TransferLog {
  private stream: WriteStream;

  constructor(
    private readonly file: string,
    private readonly onError: (e: Error) => void,
  ) {
    this.stream = this.open();
  }

  write(r: XferRecord): void {
    this.stream.write(xferlogLine(r) + '\n');
  }

  reopen(): void {
    const old = this.stream;
    this.stream = this.open();
    old.end();
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.stream.end(resolve));
  }

  private open(): WriteStream {
    const stream = createWriteStream(this.file, { flags: 'a' });
    stream.on('error', this.onError);
    return stream;
  }
}
