// RFC 3659 7 machine listings (MLST, MLSD), pure: the facts this server
// offers, the fact line of one entry, and the FEAT and OPTS MLST texts.
import type { FileStat } from './stat-records.js';

export const mlstFacts = ['type', 'size', 'modify', 'perm', 'unique'] as const;
export type MlstFact = (typeof mlstFacts)[number];

export interface FactsEntry {
  name: string;
  stats: Pick<FileStat, 'mode' | 'size' | 'mtime' | 'dev' | 'ino'>;
}

/** RFC 3659 7.8: every fact offered, the selected ones marked with '*'. */
export function mlstFeature(selected: readonly MlstFact[]): string {
  return 'MLST ' + mlstFacts.map((f) => `${f}${selected.includes(f) ? '*' : ''};`).join('');
}

/** RFC 3659 7.9: the facts of OPTS MLST that this server knows, in its order; unknown ones are ignored. */
export function selectFacts(arg: string): MlstFact[] {
  const asked = new Set(arg.toLowerCase().split(';'));
  return mlstFacts.filter((f) => asked.has(f));
}

/** RFC 3659 2.3: YYYYMMDDHHMMSS in UTC (MDTM and the modify fact). */
export function timeVal(t: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(t.getUTCFullYear(), 4)}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}`;
}

/**
 * RFC 3659 7.5.1 type: file, dir, or an OS-dependent type for what is
 * neither, with the OS.unix= names BSD ftpd writes and clients parse. A FIFO
 * is not a file a client can download (RETR refuses it), so it must not say
 * type=file. Symlinks never show: listings follow them (vfs/directory.ts).
 */
export function typeFact(mode: number): string {
  switch (mode & 0o170000) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'dir';
    case 0o010000:
      return 'OS.unix=fifo';
    case 0o140000:
      return 'OS.unix=socket';
    case 0o020000:
      return 'OS.unix=chr';
    case 0o060000:
      return 'OS.unix=blk';
    default:
      return 'OS.unix=unknown';
  }
}

/**
 * RFC 3659 7.5.5 perm: what this session may do with the entry. Files: r
 * (RETR), and when writable a (APPE), w (STOR), d (DELE), f (RNFR). Directories:
 * e (CWD), l (LIST), and when writable c (STOR in it), m (MKD), p (delete in
 * it), d (RMD), f (RNFR). Anything else (a FIFO, a device) is never opened
 * for a transfer: only d and f, when writable.
 */
export function permFact(type: string, writable: boolean): string {
  if (type === 'dir') return writable ? 'cdeflmp' : 'el';
  if (type === 'file') return writable ? 'adfrw' : 'r';
  return writable ? 'df' : '';
}

/** One fact line: 'fact=value;…' then a space and the name (RFC 3659 7.2). */
export function factsLine(entry: FactsEntry, facts: readonly MlstFact[], writable: boolean): string {
  const { stats } = entry;
  const type = typeFact(stats.mode);
  const values: Record<MlstFact, string> = {
    type,
    size: String(stats.size),
    modify: timeVal(stats.mtime),
    perm: permFact(type, writable),
    unique: `${stats.dev.toString(16)}U${stats.ino.toString(16)}`,
  };
  return `${facts.map((f) => `${f}=${values[f]};`).join('')} ${entry.name}`;
}
