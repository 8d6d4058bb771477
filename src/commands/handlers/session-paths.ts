// Path resolution as a command sees it: the argument taken from the session's
// current directory, inside the session's root (its account's home).
import { homeReal, type ResolvedPath, resolveEntry, resolveFile, resolveLexical, resolvePath } from '../../vfs/paths.js';
import type { CommandContext } from '../types.js';

export function pathOf(ctx: CommandContext, arg: string, mayBeMissing = false): ReturnType<typeof resolvePath> {
  return resolvePath(ctx.config.root, ctx.session.cwd, arg, mayBeMissing, ctx.session.home);
}

export function fileOf(ctx: CommandContext, arg: string): ReturnType<typeof resolveFile> {
  return resolveFile(ctx.config.root, ctx.session.cwd, arg, ctx.session.home);
}

/**
 * A file to download. The engine opens it beneath the served root, which is
 * the whole check when the session's '/' is the root; a session confined to
 * a home inside the root also has its realpath checked against the home.
 */
export type Download = Pick<ResolvedPath, 'virtual' | 'rel'>;

/** Synchronous when there is nothing to ask the file system (the common case): no promise per download. */
export function downloadOf(ctx: CommandContext, arg: string): Download | Promise<Download> {
  const home = ctx.session.home;
  if (home === '/') return resolveLexical(ctx.session.cwd, arg);
  return resolvePath(ctx.config.root, ctx.session.cwd, arg, false, home);
}

/** The entry itself, a symlink not followed (DELE, RMD, MKD, RNFR, RNTO). */
export function entryOf(ctx: CommandContext, arg: string): ReturnType<typeof resolveEntry> {
  return resolveEntry(ctx.config.root, ctx.session.cwd, arg, ctx.session.home);
}

/** The real path of the session's '/'. */
export function topOf(ctx: CommandContext): string {
  return homeReal(ctx.config.root, ctx.session.home);
}
