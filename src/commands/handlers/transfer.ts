// RETR, REST, ABOR, and the data-transfer steps every data command shares.
import path from 'node:path';
import { getSystemErrorName } from 'node:util';
import { TransferError, type TransferResult } from '../../engine/engine.js';
import { Code, type Reply, reply } from '../../protocol/replies.js';
import type { CommandContext } from '../types.js';
import { fileOf } from './session-paths.js';

const complete = reply(Code.ClosingData, 'Transfer complete.');
const aborted = reply(Code.TransferAborted, 'Connection closed; transfer aborted.');
const peerClosed = reply(Code.TransferAborted, 'Data connection closed by the client; transfer aborted.');
const timedOut = reply(Code.TransferAborted, 'Data connection timed out; transfer aborted.');
const noConnection = reply(Code.CantOpenData, "Can't open data connection.");
const abortDone = reply(Code.ClosingData, 'ABOR successful.');
const nothingToAbort = reply(Code.DataOpenNoTransfer, 'No transfer to abort.');

/** Errors the engine reports when opening a file (-errno) that mean "not available", not "server fault". */
const unavailable = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'ELOOP', 'EXDEV', 'ENAMETOOLONG', 'EEXIST', 'EROFS']);

export async function retr(ctx: CommandContext, arg: string): Promise<Reply> {
  const s = ctx.session;
  const offset = s.takeRest();
  const file = await fileOf(ctx, arg);
  const mode = s.type === 'I' ? 'BINARY' : 'ASCII';
  const opening = reply(
    Code.FileStatusOk,
    `Opening ${mode} mode data connection for ${path.posix.basename(file.virtual)} (${file.stats.size} bytes).`,
  );
  return runTransfer(ctx, opening, () => ctx.engine.sendFile(s.sid, file.rel, offset));
}

/** REST STREAM (RFC 3659 5): a byte offset for the next RETR or STOR. */
export function restArg(arg: string): string | undefined {
  return /^\d{1,15}$/.test(arg) ? undefined : 'REST needs a byte offset.';
}

export function rest(ctx: CommandContext, arg: string): Reply {
  ctx.session.restOffset = Number(arg);
  return reply(Code.PendingFurtherInfo, `Restarting at ${arg}. Send RETR or STOR to start the transfer.`);
}

/**
 * RFC 959 4.1.3: a running transfer ends with 426 on its own command, then
 * ABOR answers 226. With none running, a waiting passive listener is dropped.
 */
export async function abor(ctx: CommandContext): Promise<Reply> {
  const s = ctx.session;
  if (s.transferring) {
    ctx.engine.abort(s.sid);
    await ctx.afterTransfer();
    return abortDone;
  }
  if (s.data.kind === 'passive') ctx.engine.abort(s.sid);
  s.clearData();
  return nothingToAbort;
}

/**
 * The steps of every data command once its file or listing is ready: use up
 * the data setup, send the preliminary 150, connect (active mode), run the
 * transfer, and map its result to the final reply.
 */
export async function runTransfer(
  ctx: CommandContext,
  opening: Reply,
  start: () => Promise<TransferResult>,
  finalReply: (result: TransferResult) => Reply = transferReply,
): Promise<Reply> {
  const s = ctx.session;
  const data = s.takeData();
  ctx.send(opening);
  if (data.kind === 'active') ctx.engine.connectActive(s.sid, data.host, data.port);
  return finalReply(await ctx.transfer(start));
}

/** An upload's final reply names the bytes written: a cut upload keeps exactly those. */
export function uploadReply(result: TransferResult): Reply {
  const r = transferReply(result);
  if (r.code === Code.ClosingData) return reply(r.code, `Transfer complete, ${result.bytes} bytes received.`);
  if (r.code === Code.TransferAborted) return reply(r.code, `${r.text} ${result.bytes} bytes received and kept.`);
  return r;
}

export function transferReply(result: TransferResult): Reply {
  switch (result.error) {
    case TransferError.Ok:
      return complete;
    case TransferError.Aborted:
      return aborted;
    case TransferError.PeerClosed:
      return peerClosed;
    case TransferError.Timeout:
      return timedOut;
    case TransferError.NoDataConnection:
    case TransferError.ConnectFailed:
      return noConnection;
  }
  if (result.error >= 0) return reply(Code.LocalError, `Transfer failed (error ${result.error}).`);
  const name = getSystemErrorName(result.error);
  if (unavailable.has(name)) return reply(Code.FileUnavailable, `Failed to open file (${name}).`);
  if (name === 'ENOSPC') return reply(Code.InsufficientStorage, 'No space left on the device.');
  if (name === 'EDQUOT') return reply(Code.ExceededStorage, 'Disk quota exceeded.');
  return reply(Code.LocalError, `Local error: ${name}.`);
}
