// PWD, CWD, CDUP (and their X aliases): the session's current directory.
import { Code, type Reply, reply } from '../../protocol/replies.js';
import type { CommandContext } from '../types.js';
import { virtualOf } from './session-paths.js';

const changed = reply(Code.FileActionOk, 'Directory successfully changed.');

/** RFC 959 appendix II: the path in quotes, inner quotes doubled. */
export function pwd(ctx: CommandContext): Reply {
  return reply(Code.PathCreated, `"${ctx.session.cwd.replaceAll('"', '""')}" is the current directory.`);
}

export async function cwd(ctx: CommandContext, arg: string): Promise<Reply> {
  const target = virtualOf(ctx, arg);
  await ctx.files.directory(target);
  ctx.session.cwd = target;
  return changed;
}

export function cdup(ctx: CommandContext): Promise<Reply> {
  return cwd(ctx, '..');
}
