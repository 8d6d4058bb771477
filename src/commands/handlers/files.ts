// DELE, MKD, RMD, RNFR, RNTO, ALLO: changing the tree. Each acts on the named
// entry itself (a symlink is removed or renamed, not what it points to).
import { lstat, mkdir, rename, rmdir, unlink } from 'node:fs/promises';
import { Code, type Reply, reply } from '../../protocol/replies.js';
import type { Session } from '../../session/session.js';
import { fsError, type ResolvedPath } from '../../vfs/paths.js';
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
  const target = await entryOf(ctx, arg);
  await fsCall(() => unlink(target.real));
  return deleted;
}

/** RFC 959 appendix II: 257 with the new directory's path in quotes, inner quotes doubled. */
export async function mkd(ctx: CommandContext, arg: string): Promise<Reply> {
  const target = await entryOf(ctx, arg);
  await fsCall(() => mkdir(target.real));
  return reply(Code.PathCreated, `"${target.virtual.replaceAll('"', '""')}" created.`);
}

export async function rmd(ctx: CommandContext, arg: string): Promise<Reply> {
  const target = await entryOf(ctx, arg);
  await fsCall(() => rmdir(target.real));
  return removed;
}

export async function rnfr(ctx: CommandContext, arg: string): Promise<Reply> {
  const target = await existing(ctx, arg);
  ctx.session.renameFrom = target.virtual;
  return readyForRnto;
}

export async function rnto(ctx: CommandContext, arg: string): Promise<Reply> {
  const fromPath = ctx.session.takeRenameFrom();
  if (fromPath === null) return rnfrFirst;
  const from = await existing(ctx, fromPath);
  const to = await entryOf(ctx, arg);
  await fsCall(() => rename(from.real, to.real));
  return renamed;
}

/** RFC 959 4.1.3: ALLO is accepted; nothing needs reserving. */
export function allo(): Reply {
  return allocNotNeeded;
}

async function existing(ctx: CommandContext, arg: string): Promise<ResolvedPath> {
  const target = await entryOf(ctx, arg);
  await fsCall(() => lstat(target.real));
  return target;
}

async function fsCall(call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
  } catch (e) {
    throw fsError(e);
  }
}
