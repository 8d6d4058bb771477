// Paths as a command sees them: the argument taken from the session's current
// directory, lexically normalized. What they name is asked of ctx.files (the
// kernel, beneath the session's directory), never of a path checked here.
import { FtpError } from '../../errors.js';
import { Code } from '../../protocol/replies.js';
import { joinVirtual, relativeOf } from '../../vfs/paths.js';
import type { CommandContext } from '../types.js';

/** cwd + argument → the virtual path ('/a/b'). */
export function virtualOf(ctx: CommandContext, arg: string): string {
  return joinVirtual(ctx.session.cwd, arg);
}

/** A file for the engine to open itself, beneath the session's directory (RETR, STOR…). */
export interface Target {
  virtual: string;
  /** Relative to the session's directory, as engine actions take it: '.' or 'a/b'. */
  rel: string;
}

/** No file-system call: the engine's open is the check (openat2 RESOLVE_BENEATH). */
export function targetOf(ctx: CommandContext, arg: string): Target {
  const virtual = virtualOf(ctx, arg);
  return { virtual, rel: relativeOf(virtual) };
}

/** An entry to create, remove or rename: never the session's '/' itself (DELE, RMD, MKD, RNFR, RNTO). */
export function entryOf(ctx: CommandContext, arg: string): string {
  const virtual = virtualOf(ctx, arg);
  if (virtual === '/') throw new FtpError(Code.FileUnavailable, 'Permission denied.');
  return virtual;
}
