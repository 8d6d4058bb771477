// PWD, CWD, CDUP (and their X aliases): the session's current directory.
import { FtpError } from '../../errors.js';
import { Code, type Reply, reply } from '../../protocol/replies.js';
import { statOf } from '../../vfs/paths.js';
import type { CommandContext } from '../types.js';
import { pathOf } from './session-paths.js';

const changed = reply(Code.FileActionOk, 'Directory successfully changed.');

/** RFC 959 appendix II: the path in quotes, inner quotes doubled. */
export function pwd(ctx: CommandContext): Reply {
  return reply(Code.PathCreated, `"${ctx.session.cwd.replaceAll('"', '""')}" is the current directory.`);
}

export async function cwd(ctx: CommandContext, arg: string): Promise<Reply> {
  const target = await pathOf(ctx, arg);
  const stats = await statOf(target.real);
  if (!stats.isDirectory()) throw new FtpError(Code.FileUnavailable, 'Not a directory.');
  ctx.session.cwd = target.virtual;
  return changed;
}

export function cdup(ctx: CommandContext): Promise<Reply> {
  return cwd(ctx, '..');
}
