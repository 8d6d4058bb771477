// Virtual paths ('/a/b', what the client sees), lexically: '..' stops at
// '/', and the result is relative to the session's directory (its home, or
// the served root), as engine actions take it. This is the first line only:
// the kernel confines every file operation itself (vfs/files.ts, and the
// engine's opens for transfers), beneath the session's directory fd.
import { FtpError } from '../errors.js';
import { Code } from '../protocol/replies.js';

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

const noSuchFile = () => new FtpError(Code.FileUnavailable, 'No such file or directory.');
const denied = () => new FtpError(Code.FileUnavailable, 'Permission denied.');

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
