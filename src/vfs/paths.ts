// Virtual paths ('/a/b', what the client sees) → paths under the served root.
// Two checks keep every path inside: the lexical one here ('..' stops at '/'),
// and a realpath one so that no symlink leads out. The engine checks again
// when it opens a file (openat2 RESOLVE_BENEATH); downloads of a session
// whose '/' is the root rely on that check for symlinks (resolveLexical).
import type { Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { FtpError } from '../errors.js';
import { Code } from '../protocol/replies.js';

export interface ResolvedPath {
  /** Normalized virtual path: '/' or '/a/b'. */
  virtual: string;
  /** Path relative to the root, as engine actions take it: '.' or 'a/b'. */
  rel: string;
  /** Real path on disk (symlinks resolved) for fs calls; for a missing target, under its real parent. */
  real: string;
}

/** cwd + argument → normalized virtual path. Only '/' separates; '\', '%2F' are plain name characters. */
export function joinVirtual(cwd: string, arg: string): string {
  if (arg.includes('\0')) throw new FtpError(Code.SyntaxErrorArgs, 'Invalid path.');
  // The common case, a plain name in '/', without the split and join below (once per download).
  if (cwd === '/' && arg !== '' && arg !== '.' && arg !== '..' && !arg.includes('/')) return '/' + arg;
  const parts: string[] = [];
  const input = arg.startsWith('/') ? arg : `${cwd}/${arg}`;
  for (const part of input.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return '/' + parts.join('/');
}

export function relativeOf(virtual: string): string {
  return virtual === '/' ? '.' : virtual.slice(1);
}

function parentOf(virtual: string): string {
  return joinVirtual(virtual, '..');
}

const noSuchFile = () => new FtpError(Code.FileUnavailable, 'No such file or directory.');
const denied = () => new FtpError(Code.FileUnavailable, 'Permission denied.');

/** Where a session's virtual '/' is: the home of its account inside the served root ('/' for all of it). */
function homeRel(home: string, virtual: string): string {
  if (home === '/') return relativeOf(virtual);
  return relativeOf(joinVirtual(home, '.' + virtual));
}

/** The real path of a session's '/': its home under the root (checked at start to contain no symlink). */
export function homeReal(root: string, home: string): string {
  return path.join(root, homeRel(home, '/'));
}

/**
 * The lexical part of resolvePath alone (no file system call): for a file
 * the engine opens itself, beneath the root, where the kernel refuses any
 * symlink that leads out.
 */
export function resolveLexical(cwd: string, arg: string, home = '/'): Pick<ResolvedPath, 'virtual' | 'rel'> {
  const virtual = joinVirtual(cwd, arg);
  return { virtual, rel: homeRel(home, virtual) };
}

/**
 * Resolves cwd + arg under `root` (itself a real path), or under `home`
 * inside it when the session is confined there. With `mayBeMissing`, a target
 * that does not exist is accepted when its parent exists inside (for
 * uploads). Errors are FtpErrors: 550 outside the root or missing.
 */
export async function resolvePath(
  root: string,
  cwd: string,
  arg: string,
  mayBeMissing = false,
  home = '/',
): Promise<ResolvedPath> {
  const virtual = joinVirtual(cwd, arg);
  const rel = homeRel(home, virtual);
  let real: string;
  try {
    real = await realpath(path.join(root, rel));
  } catch (e) {
    if (!mayBeMissing || errnoCode(e) !== 'ENOENT' || virtual === '/') throw fsError(e);
    return entryOf(root, virtual, home);
  }
  if (!isInside(homeReal(root, home), real)) throw denied();
  return { virtual, rel, real };
}

/**
 * Resolves a directory entry itself, without following it when it is a
 * symlink (DELE, RMD, MKD, RNFR, RNTO act on the link): its parent is
 * resolved and must lie inside. The session's '/' is never an entry.
 */
export function resolveEntry(root: string, cwd: string, arg: string, home = '/'): Promise<ResolvedPath> {
  const virtual = joinVirtual(cwd, arg);
  if (virtual === '/') return Promise.reject(denied());
  return entryOf(root, virtual, home);
}

async function entryOf(root: string, virtual: string, home: string): Promise<ResolvedPath> {
  const parent = await resolvePath(root, '/', parentOf(virtual), false, home);
  return { virtual, rel: homeRel(home, virtual), real: path.join(parent.real, path.posix.basename(virtual)) };
}

export function isInside(root: string, real: string): boolean {
  if (real === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return real.startsWith(prefix);
}

/** Maps an fs error to its 550 reply; anything unexpected is rethrown (→ 451). */
export function fsError(e: unknown): unknown {
  return fsErrorOf(errnoCode(e)) ?? e;
}

/** The reply of an errno name (ENOENT, ...) as an FtpError; undefined for one that means a server fault. */
export function fsErrorOf(code: string | undefined): FtpError | undefined {
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
      return noSuchFile();
    case 'EACCES':
    case 'EPERM':
    case 'ELOOP':
    case 'EROFS':
      return denied();
    case 'EEXIST':
      return new FtpError(Code.FileUnavailable, 'File exists.');
    case 'ENOTEMPTY':
      return new FtpError(Code.FileUnavailable, 'Directory not empty.');
    case 'EISDIR':
      return new FtpError(Code.FileUnavailable, 'Is a directory.');
    case 'EINVAL':
    case 'EBUSY':
    case 'EXDEV':
      return new FtpError(Code.FileUnavailable, 'Cannot do that to this file.');
    case 'ENOSPC':
      return new FtpError(Code.InsufficientStorage, 'No space left on the device.');
    case 'EDQUOT':
      return new FtpError(Code.ExceededStorage, 'Disk quota exceeded.');
    default:
      return undefined;
  }
}

function errnoCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** stat() of a resolved path, errors mapped as fsError does. */
export async function statOf(real: string): Promise<Stats> {
  try {
    return await stat(real);
  } catch (e) {
    throw fsError(e);
  }
}

/** Resolves a path that must name a regular file (RETR, SIZE, MDTM). */
export async function resolveFile(
  root: string,
  cwd: string,
  arg: string,
  home = '/',
): Promise<ResolvedPath & { stats: Stats }> {
  const resolved = await resolvePath(root, cwd, arg, false, home);
  const stats = await statOf(resolved.real);
  if (!stats.isFile()) throw new FtpError(Code.FileUnavailable, 'Not a regular file.');
  return { ...resolved, stats };
}
