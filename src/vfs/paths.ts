// Virtual paths ('/a/b', what the client sees) → paths under the served root.
// Two checks keep every path inside: the lexical one here ('..' stops at '/'),
// and a realpath one so that no symlink leads out. The engine checks a third
// time when it opens (openat2 RESOLVE_BENEATH).
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

/**
 * Resolves cwd + arg under `root` (itself a real path). With `mayBeMissing`,
 * a target that does not exist is accepted when its parent exists inside the
 * root (for uploads). Errors are FtpErrors: 550 outside the root or missing.
 */
export async function resolvePath(
  root: string,
  cwd: string,
  arg: string,
  mayBeMissing = false,
): Promise<ResolvedPath> {
  const virtual = joinVirtual(cwd, arg);
  const rel = relativeOf(virtual);
  const lexical = path.join(root, rel);
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (e) {
    if (!mayBeMissing || errnoCode(e) !== 'ENOENT' || virtual === '/') throw fsError(e);
    const parent = await resolvePath(root, '/', parentOf(virtual));
    real = path.join(parent.real, path.posix.basename(virtual));
  }
  if (!isInside(root, real)) throw denied();
  return { virtual, rel, real };
}

function isInside(root: string, real: string): boolean {
  if (real === root) return true;
  const prefix = root.endsWith(path.sep) ? root : root + path.sep;
  return real.startsWith(prefix);
}

/** Maps an fs error to its 550 reply; anything unexpected is rethrown (→ 451). */
export function fsError(e: unknown): unknown {
  switch (errnoCode(e)) {
    case 'ENOENT':
    case 'ENOTDIR':
    case 'ENAMETOOLONG':
      return noSuchFile();
    case 'EACCES':
    case 'EPERM':
    case 'ELOOP':
      return denied();
    default:
      return e;
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
export async function resolveFile(root: string, cwd: string, arg: string): Promise<ResolvedPath & { stats: Stats }> {
  const resolved = await resolvePath(root, cwd, arg);
  const stats = await statOf(resolved.real);
  if (!stats.isFile()) throw new FtpError(Code.FileUnavailable, 'Not a regular file.');
  return { ...resolved, stats };
}
