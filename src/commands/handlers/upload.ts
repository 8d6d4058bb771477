// STOR, APPE, STOU: uploads. The engine writes the data connection into the
// file (socket to file, one block per loop turn, opened beneath the root); a
// cut upload keeps exactly the bytes received, and the final reply counts them.
import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { TransferOptions, WriteModeName } from '../../engine/engine.js';
import { FtpError } from '../../errors.js';
import { Code, type Reply, reply } from '../../protocol/replies.js';
import type { ResolvedPath } from '../../vfs/paths.js';
import type { CommandContext } from '../types.js';
import { pathOf } from './session-paths.js';
import { runTransfer, uploadReply } from './transfer.js';

const okToSend = 'Ok to send data.';

/** STOR, or REST + STOR: writes from the REST offset on, keeping the bytes before it (RFC 3659 5.5). */
export async function stor(ctx: CommandContext, arg: string): Promise<Reply> {
  const offset = ctx.session.takeRest();
  return receive(ctx, await uploadTarget(ctx, arg), offset, 'truncate', okToSend);
}

/** APPE appends, creating the file when it is missing (RFC 959 4.1.3). */
export async function appe(ctx: CommandContext, arg: string): Promise<Reply> {
  ctx.session.takeRest();
  return receive(ctx, await uploadTarget(ctx, arg), 0, 'append', okToSend);
}

/**
 * STOU stores under a name no file has yet: the argument, else a random one,
 * with .1, .2… appended while taken. The 150 reply names it as "FILE: name"
 * (RFC 1123 4.1.2.9); the engine creates it exclusively, so a race loses cleanly.
 */
export async function stou(ctx: CommandContext, arg: string): Promise<Reply> {
  ctx.session.takeRest();
  const target = await uniqueTarget(ctx, arg === '' ? `stou.${randomBytes(6).toString('hex')}` : arg);
  return receive(ctx, target, 0, 'exclusive', `FILE: ${path.posix.basename(target.virtual)}`);
}

function receive(ctx: CommandContext, target: ResolvedPath, offset: number, mode: WriteModeName, text: string): Promise<Reply> {
  const start = (opts: TransferOptions) => ctx.engine.recvFile(ctx.session.sid, target.rel, offset, mode, opts);
  return runTransfer(ctx, reply(Code.FileStatusOk, text), start, uploadReply);
}

/** The file to write: missing (its directory must exist), or an existing file, never a directory. */
async function uploadTarget(ctx: CommandContext, arg: string): Promise<ResolvedPath> {
  const target = await pathOf(ctx, arg, true);
  const existing = await lstatOrNothing(target.real);
  if (existing?.isDirectory() === true) throw new FtpError(Code.FileUnavailable, 'Is a directory.');
  return target;
}

async function uniqueTarget(ctx: CommandContext, base: string): Promise<ResolvedPath> {
  for (let n = 0; n < 1000; n++) {
    const target = await pathOf(ctx, n === 0 ? base : `${base}.${n}`, true);
    if ((await lstatOrNothing(target.real)) === undefined) return target;
  }
  throw new FtpError(Code.FileNameNotAllowed, 'No free unique name.');
}

function lstatOrNothing(real: string): Promise<Stats | undefined> {
  return lstat(real).catch(() => undefined);
}
