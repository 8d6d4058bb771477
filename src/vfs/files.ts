// A session's file system, as command handlers (and custom commands) use it:
// virtual paths ('/a/b', what the client sees) in, FileStats or FtpErrors out.
// Every operation is one engine FileOp, done by the kernel beneath the
// session's directory (its home, or the served root): TypeScript normalizes
// the path lexically ('..' stops at '/'), and nothing it checked is used by a
// later call, so a symlink swapped in meanwhile cannot lead outside.
import { getSystemErrorName } from 'node:util';
import { type Engine, type FileOpName, isSessionGone, type SessionId, uploadTempPrefix } from '../engine/engine.js';
import { FtpError, SessionGone } from '../errors.js';
import { Code } from '../protocol/replies.js';
import { fsErrorOf, relativeOf } from './paths.js';
import { decodeStats, type FileStat, isDirectory, isRegular } from './stat-records.js';

export interface Listing {
  /** What the path names (followed when it is a symlink that stays inside). */
  self: FileStat;
  /** Its entries, sorted by name, when it is a directory; empty otherwise. */
  entries: FileStat[];
}

const notRegular = () => new FtpError(Code.FileUnavailable, 'Not a regular file.');
const notDirectory = () => new FtpError(Code.FileUnavailable, 'Not a directory.');

export class SessionFiles {
  constructor(
    private readonly engine: Pick<Engine, 'fileOp'>,
    private readonly sid: SessionId,
  ) {}

  /** What `virtual` names, a symlink followed (inside only). */
  async stat(virtual: string): Promise<FileStat> {
    return first(await this.run('stat', virtual));
  }

  /** The entry itself: a symlink is not followed. */
  async lstat(virtual: string): Promise<FileStat> {
    return first(await this.run('lstat', virtual));
  }

  /** A regular file's stat (RETR's, SIZE's, MDTM's target), else 550. */
  async file(virtual: string): Promise<FileStat> {
    const st = await this.stat(virtual);
    if (!isRegular(st)) throw notRegular();
    return st;
  }

  /** A directory's stat (CWD's target), else 550. */
  async directory(virtual: string): Promise<FileStat> {
    const st = await this.stat(virtual);
    if (!isDirectory(st)) throw notDirectory();
    return st;
  }

  /**
   * A directory and its entries, or a file alone. The temporaries of atomic
   * uploads (--atomic-uploads) are left out: a file in the making is not part
   * of the tree (one a crash left behind stays hidden too; remove it from the shell).
   */
  async list(virtual: string): Promise<Listing> {
    const [self, ...entries] = await this.run('list', virtual);
    if (self === undefined) throw new Error('list answered no record');
    return { self, entries: entries.filter((e) => !e.name.startsWith(uploadTempPrefix)) };
  }

  async mkdir(virtual: string): Promise<void> {
    await this.run('mkdir', virtual);
  }

  async rmdir(virtual: string): Promise<void> {
    await this.run('rmdir', virtual);
  }

  async unlink(virtual: string): Promise<void> {
    await this.run('unlink', virtual);
  }

  async rename(from: string, to: string): Promise<void> {
    await this.run('rename', from, to);
  }

  /** From now on the session's directory is `home` (a virtual path of the served root). */
  async enterHome(home: string): Promise<void> {
    await this.run('home', home);
  }

  private async run(op: FileOpName, virtual: string, to?: string): Promise<FileStat[]> {
    const r = await this.engine.fileOp(this.sid, op, relativeOf(virtual), to === undefined ? undefined : relativeOf(to));
    if (r.error !== 0) throw errorOf(r.error);
    return decodeStats(r.records);
  }
}

function first(stats: FileStat[]): FileStat {
  const st = stats[0];
  if (st === undefined) throw new Error('a stat answered no record');
  return st;
}

/**
 * A negated errno → its 550-family FtpError; the session gone (the worker or
 * the stopping engine answered for it) → SessionGone, which is not logged;
 * one that means a server fault → an Error (451).
 */
function errorOf(error: number): Error {
  const name = getSystemErrorName(error);
  if (isSessionGone(error)) return new SessionGone(`file operation not done: ${name}`);
  return fsErrorOf(name) ?? new Error(`file operation failed: ${name}`);
}
