// STOR, APPE, STOU: uploads. The engine writes the data connection into the
// file (socket to file, one block per loop turn, opened beneath the root,
// locked exclusively: a transfer of the same file meanwhile gets 450); a cut
// upload keeps exactly the bytes received, and the final reply counts them.
// With --atomic-uploads a STOR from offset 0 writes a temporary beside the
// file instead, renamed over it only when the upload ends well: a cut upload
// then leaves the old file as it was, and its bytes are discarded.
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { TransferOptions, WriteModeName } from '../../engine/engine.js';
import { FtpError } from '../../errors.js';
import { Code, type Reply, reply } from '../../protocol/replies.js';
import type { FileStat } from '../../vfs/stat-records.js';
import { isDirectory } from '../../vfs/stat-records.js';
import type { CommandContext } from '../types.js';
import { type Target, targetOf } from './session-paths.js';
import { runTransfer, uploadReply } from './transfer.js';

const okToSend = 'Ok to send data.';

/**
 * STOR, or REST + STOR: writes from the REST offset on, keeping the bytes
 * before it (RFC 3659 5.5). An offset past the end of the file (a missing
 * file has none) is refused up front with 554 (RFC 1123 4.1.3.4), before the
 * 150 and before the file is created: writing there would leave a hole of
 * bytes the client never sent, and an offset past what the file system can
 * hold (REST 999999999999999) would fail only after the 150, with the file
 * already created. vsftpd seeks there (its source flags it "XXX"). A REST+STOR
 * resumes the file itself, so it cannot be atomic: with --atomic-uploads it
 * writes in place, as APPE does.
 */
export async function stor(ctx: CommandContext, arg: string): Promise<Reply> {
  const offset = ctx.session.takeRest();
  const mode = ctx.config.atomicUploads && offset === 0 ? 'replace' : 'truncate';
  return receive(ctx, await uploadTarget(ctx, arg, offset), offset, mode, okToSend);
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

function receive(ctx: CommandContext, target: Target, offset: number, mode: WriteModeName, text: string): Promise<Reply> {
  const start = (opts: TransferOptions) => ctx.engine.recvFile(ctx.session.sid, target.rel, offset, mode, opts);
  return runTransfer(ctx, reply(Code.FileStatusOk, text), start, (r) => uploadReply(r, mode === 'replace'));
}

/**
 * The file to write: missing, or an existing file, never a directory; a
 * REST offset must not pass its end. Asked first only for a plain 550 (or
 * 554) before any data connection is used: the engine's open beneath the
 * session's directory is what confines the write.
 */
async function uploadTarget(ctx: CommandContext, arg: string, restOffset = 0): Promise<Target> {
  const target = targetOf(ctx, arg);
  const existing = await lstatOrNothing(ctx, target.virtual);
  if (existing !== undefined && isDirectory(existing)) throw new FtpError(Code.FileUnavailable, 'Is a directory.');
  const size = existing?.size ?? 0;
  if (restOffset > size) {
    throw new FtpError(Code.InvalidRestParameter, `Invalid REST parameter: ${restOffset} is past the end of the file (${size} bytes).`);
  }
  return target;
}

async function uniqueTarget(ctx: CommandContext, base: string): Promise<Target> {
  for (let n = 0; n < 1000; n++) {
    const target = targetOf(ctx, n === 0 ? base : `${base}.${n}`);
    if ((await lstatOrNothing(ctx, target.virtual)) === undefined) return target;
  }
  throw new FtpError(Code.FileNameNotAllowed, 'No free unique name.');
}

function lstatOrNothing(ctx: CommandContext, virtual: string): Promise<FileStat | undefined> {
  return ctx.files.lstat(virtual).catch(() => undefined);
}
