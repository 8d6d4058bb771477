// Path resolution as a command sees it: the argument taken from the session's
// current directory, inside the session's root (its account's home).
import { homeReal, resolveEntry, resolveFile, resolvePath } from '../../vfs/paths.js';
import type { CommandContext } from '../types.js';

export function pathOf(ctx: CommandContext, arg: string, mayBeMissing = false): ReturnType<typeof resolvePath> {
  return resolvePath(ctx.config.root, ctx.session.cwd, arg, mayBeMissing, ctx.session.home);
}

export function fileOf(ctx: CommandContext, arg: string): ReturnType<typeof resolveFile> {
  return resolveFile(ctx.config.root, ctx.session.cwd, arg, ctx.session.home);
}

/** The entry itself, a symlink not followed (DELE, RMD, MKD, RNFR, RNTO). */
export function entryOf(ctx: CommandContext, arg: string): ReturnType<typeof resolveEntry> {
  return resolveEntry(ctx.config.root, ctx.session.cwd, arg, ctx.session.home);
}

/** The real path of the session's '/'. */
export function topOf(ctx: CommandContext): string {
  return homeReal(ctx.config.root, ctx.session.home);
}
