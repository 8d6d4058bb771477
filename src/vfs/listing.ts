// Directory listing text (pure): `ls -l` style lines for LIST and STAT, bare
// names for NLST. Times are UTC so that listings do not depend on the host.
import { oneLine } from '../protocol/replies.js';
import type { FileStat } from './stat-records.js';

export interface ListEntry {
  name: string;
  stats: Pick<FileStat, 'mode' | 'nlink' | 'size' | 'mtime'>;
}

const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const halfYear = 182 * 24 * 3600 * 1000;

/** One `ls -l` line (without line end): mode, links, owner, group, size, date, name. */
export function longLine(entry: ListEntry, now: Date): string {
  const { mode, nlink, size, mtime } = entry.stats;
  return `${modeString(mode)} ${String(nlink).padStart(3)} ftp      ftp      ${String(size).padStart(12)} ${dateString(mtime, now)} ${entry.name}`;
}

/**
 * The listing a data connection carries: one line per entry, each ended by
 * CRLF. A name with CR or LF in it stays on its line, escaped as replies
 * escape it (CR as CR NUL, LF as NUL): it can never forge a second entry.
 */
export function listingBody(lines: readonly string[]): Buffer {
  return Buffer.from(lines.map((l) => oneLine(l) + '\r\n').join(''), 'utf8');
}

/** ls date column: 'Mon DD HH:MM' within the last half year, else 'Mon DD  YYYY'. */
export function dateString(mtime: Date, now: Date): string {
  const day = `${months[mtime.getUTCMonth()]} ${String(mtime.getUTCDate()).padStart(2)}`;
  const age = now.getTime() - mtime.getTime();
  if (age >= 0 && age < halfYear) {
    const hh = String(mtime.getUTCHours()).padStart(2, '0');
    const mm = String(mtime.getUTCMinutes()).padStart(2, '0');
    return `${day} ${hh}:${mm}`;
  }
  return `${day}  ${mtime.getUTCFullYear()}`;
}

export function modeString(mode: number): string {
  const type = typeChar(mode & 0o170000);
  const bit = (mask: number, c: string) => ((mode & mask) !== 0 ? c : '-');
  const exec = (x: number, special: number, set: string) => {
    const xOn = (mode & x) !== 0;
    if ((mode & special) === 0) return xOn ? 'x' : '-';
    return xOn ? set : set.toUpperCase();
  };
  return (
    type +
    bit(0o400, 'r') + bit(0o200, 'w') + exec(0o100, 0o4000, 's') +
    bit(0o040, 'r') + bit(0o020, 'w') + exec(0o010, 0o2000, 's') +
    bit(0o004, 'r') + bit(0o002, 'w') + exec(0o001, 0o1000, 't')
  );
}

function typeChar(format: number): string {
  switch (format) {
    case 0o040000:
      return 'd';
    case 0o120000:
      return 'l';
    case 0o020000:
      return 'c';
    case 0o060000:
      return 'b';
    case 0o010000:
      return 'p';
    case 0o140000:
      return 's';
    default:
      return '-';
  }
}
