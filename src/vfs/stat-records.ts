// Decodes the stat records of a file operation's answer (native/engine/
// file_ops.cc AppendRecord; the layout is protocol.h MUXFTPD_STAT_FIELDS, its
// offsets taken from the addon).
import { isUtf8 } from 'node:buffer';
import { wireField, wireHeader } from '../engine/native.js';

const kHeader = wireHeader('stat');
const oMode = wireField('stat', 'mode', 'u32');
const oNlink = wireField('stat', 'nlink', 'u32');
const oSize = wireField('stat', 'size', 'f64');
const oMtimeMs = wireField('stat', 'mtimeMs', 'f64');
const oDev = wireField('stat', 'dev', 'u64');
const oIno = wireField('stat', 'ino', 'u64');
const oNameLength = wireField('stat', 'nameLength', 'u16');

/** What a listing, MLST, SIZE or MDTM needs of a file. */
export interface FileStat {
  /** The entry's name in its directory; '' for the file an operation named itself. */
  name: string;
  mode: number;
  nlink: number;
  size: number;
  mtime: Date;
  dev: bigint;
  ino: bigint;
}

const S_IFMT = 0o170000;
export const isDirectory = (st: Pick<FileStat, 'mode'>): boolean => (st.mode & S_IFMT) === 0o040000;
export const isRegular = (st: Pick<FileStat, 'mode'>): boolean => (st.mode & S_IFMT) === 0o100000;

/**
 * Every record, in order. A name that is not UTF-8 is left out: a client
 * could not name it back (commands are decoded as UTF-8), so it is not listed.
 */
export function decodeStats(records: Buffer): FileStat[] {
  const out: FileStat[] = [];
  let at = 0;
  while (at + kHeader <= records.length) {
    const nameEnd = at + kHeader + records.readUInt16LE(at + oNameLength);
    const name = records.subarray(at + kHeader, nameEnd);
    if (isUtf8(name)) {
      out.push({
        name: name.toString('utf8'),
        mode: records.readUInt32LE(at + oMode),
        nlink: records.readUInt32LE(at + oNlink),
        size: records.readDoubleLE(at + oSize),
        mtime: new Date(records.readDoubleLE(at + oMtimeMs)),
        dev: records.readBigUInt64LE(at + oDev),
        ino: records.readBigUInt64LE(at + oIno),
      });
    }
    at = nameEnd;
  }
  return out;
}
