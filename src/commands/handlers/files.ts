// DELE, MKD, RMD, RNFR, RNTO, ALLO: changing the tree. Each acts on the named
// entry itself (a symlink is removed or renamed, not what it points to), in
// one engine file operation beneath the session's directory.
import { Code, type Reply, reply } from '../../protocol/replies.js';
import type { Session } from '../../session/session.js';
import type { CommandContext } from '../types.js';
import { entryOf } from './session-paths.js';

const deleted = reply(Code.FileActionOk, 'File deleted.');
const removed = reply(Code.FileActionOk, 'Directory removed.');
const renamed = reply(Code.FileActionOk, 'Rename successful.');
const readyForRnto = reply(Code.PendingFurtherInfo, 'Ready for RNTO.');
const allocNotNeeded = reply(Code.Superfluous, 'ALLO not needed: files grow as they are written.');
const rnfrFirst = reply(Code.BadSequence, 'RNFR required first.');

/** RNTO needs an RNFR before it (RFC 959 4.1.3). */
export function needsRenameFrom(s: Session): Reply | undefined {
  return s.renameFrom === null ? rnfrFirst : undefined;
}

export async function dele(ctx: CommandContext, arg: string): Promise<Reply> {
  await ctx.files.unlink(entryOf(ctx, arg));
  return deleted;
}

/** RFC 959 appendix II: 257 with the new directory's path in quotes, inner quotes doubled. */
export async function mkd(ctx: CommandContext, arg: string): Promise<Reply> {
  const target = entryOf(ctx, arg);
  await ctx.files.mkdir(target);
  return reply(Code.PathCreated, `"${target.replaceAll('"', '""')}" created.`);
}

export async function rmd(ctx: CommandContext, arg: string): Promise<Reply> {
  await ctx.files.rmdir(entryOf(ctx, arg));
  return removed;
}

export async function rnfr(ctx: CommandContext, arg: string): Promise<Reply> {
  const target = entryOf(ctx, arg);
  await ctx.files.lstat(target);
  ctx.session.renameFrom = target;
  return readyForRnto;
}

export async function rnto(ctx: CommandContext, arg: string): Promise<Reply> {
  const from = ctx.session.takeRenameFrom();
  if (from === null) return rnfrFirst;
  await ctx.files.rename(from, entryOf(ctx, arg));
  return renamed;
}

/** RFC 959 4.1.3: ALLO is accepted; nothing needs reserving. */
export function allo(): Reply {
  return allocNotNeeded;
}
