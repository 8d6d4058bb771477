// RETR, REST, ABOR, and the data-transfer steps every data command shares.
import path from 'node:path';
import { getSystemErrorName } from 'node:util';
import { TransferError, type TransferOptions, type TransferResult } from '../../engine/engine.js';
import { alreadySent, Code, formatReply, type Reply, reply } from '../../protocol/replies.js';
import type { CommandContext } from '../types.js';
import { fsErrorOf } from '../../vfs/paths.js';
import { type Target, targetOf } from './session-paths.js';

const complete = reply(Code.ClosingData, 'Transfer complete.');
/** `complete`, already queued by the worker as the transfer's epilogue. */
const completeSent = alreadySent(complete);
const completeText = formatReply(complete);
const aborted = reply(Code.TransferAborted, 'Connection closed; transfer aborted.');
const peerClosed = reply(Code.TransferAborted, 'Data connection closed by the client; transfer aborted.');
const timedOut = reply(Code.TransferAborted, 'Data connection timed out; transfer aborted.');
const noConnection = reply(Code.CantOpenData, "Can't open data connection.");
/** RFC 959 425: the PROT P data connection's TLS handshake failed, so it never opened. */
const tlsFailed = reply(Code.CantOpenData, "Can't open data connection: TLS handshake failed.");
/**
 * vsftpd's words for a PROT P data connection that did not resume the control
 * connection's TLS session (--tls-session-reuse required): clients and
 * scripts written against vsftpd look for them.
 */
const tlsNotResumed = reply(Code.ProtocolNotSupported, 'SSL connection failed: session reuse required.');
const abortDone = reply(Code.ClosingData, 'ABOR successful.');
const nothingToAbort = reply(Code.DataOpenNoTransfer, 'No transfer to abort.');

/**
 * What the engine's open means by these, unlike a file-system call from JS:
 * EISDIR and ENXIO, not a regular file (a directory, a FIFO, a device);
 * EXDEV, a path that leads out of the session's directory (openat2 RESOLVE_BENEATH). Every
 * other errno is answered as vfs/paths.ts answers it.
 */
const notRegular = reply(Code.FileUnavailable, 'Not a regular file.');
const openRefusals: Record<string, Reply> = {
  EISDIR: notRegular,
  ENXIO: notRegular,
  EXDEV: reply(Code.FileUnavailable, 'Permission denied.'),
  // The file's lock (taken at open: shared to read, exclusive to write) is
  // held by another transfer; RFC 959 4.2.1: 450, file unavailable (e.g. busy).
  EAGAIN: reply(Code.FileBusy, 'Requested file action not taken: file busy.'),
};

/**
 * RETR asks the file system nothing itself: the engine opens the file beneath
 * the session's directory (openat2 RESOLVE_BENEATH: no symlink leads out of
 * its home or the root) and sends the 150 only once it is open; a missing
 * file or a directory comes back as the transfer's error (550).
 */
export function retr(ctx: CommandContext, arg: string): Promise<Reply> {
  const offset = ctx.session.takeRest();
  return send(ctx, targetOf(ctx, arg), offset);
}

function send(ctx: CommandContext, file: Target, offset: number): Promise<Reply> {
  const s = ctx.session;
  const mode = s.type === 'I' ? 'BINARY' : 'ASCII';
  const opening = reply(Code.FileStatusOk, `Opening ${mode} mode data connection for ${path.posix.basename(file.virtual)}.`);
  return runTransfer(ctx, opening, (opts) => ctx.engine.sendFile(s.sid, file.rel, offset, opts));
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
  if (s.data.kind !== 'none') ctx.engine.abort(s.sid);
  s.clearData();
  return nothingToAbort;
}

/**
 * Starts a transfer; `opts.preamble` is the formatted 150, for the engine to
 * send once the file is open, `opts.epilogue` (when set) the 226 it sends on
 * success. `opts` goes to the engine as it is: its `ended` gives the result.
 * A failure to start throws (the engine's own actions never reject).
 */
export type StartTransfer = (opts: TransferOptions) => unknown;

/**
 * The steps of every data command once its file or listing is ready: use up
 * the data setup (given back when the file does not open, which the engine
 * keeps then), run the transfer (the engine connects in active mode and sends
 * the preliminary 150 when it has opened the file), and map its result to the
 * final reply. Without a `finalReply` (any, even `transferReply`), a transfer
 * that succeeds is answered by the worker itself (the 226 as its epilogue,
 * queued the moment the data connection closes): no round trip through JS
 * before the client may send its next command. Uploads pass their own, to
 * name the bytes received. The reply is made in the engine's batch that
 * ends the transfer (its `ended`): one promise continuation per command.
 */
export function runTransfer(
  ctx: CommandContext,
  opening: Reply,
  start: StartTransfer,
  finalReply: (result: TransferResult) => Reply = downloadReply,
): Promise<Reply> {
  const s = ctx.session;
  const data = s.takeData();
  const preamble = formatReply(opening);
  const epilogue = finalReply === downloadReply ? completeText : undefined;
  return new Promise((resolve, reject) => {
    ctx.transfer(
      ({ started, ended }) => start({ preamble, epilogue, started, ended }),
      (r) => {
        // A file that did not open left the data setup in the engine: the next transfer uses it.
        if (!r.opened && r.error < 0 && s.data.kind === 'none') s.data = data;
        try {
          resolve(finalReply(r));
        } catch (e) {
          reject(e);
        }
      },
    );
  });
}

/** A download's final reply: none to send when the worker queued the 226 itself. */
function downloadReply(result: TransferResult): Reply {
  return result.error === TransferError.Ok ? completeSent : transferReply(result);
}

/**
 * An upload's final reply names the bytes written: a cut upload keeps exactly
 * those, unless it was `atomic` (its temporary is removed, the file untouched).
 */
export function uploadReply(result: TransferResult, atomic = false): Reply {
  const r = transferReply(result);
  if (r.code === Code.ClosingData) return reply(r.code, `Transfer complete, ${result.bytes} bytes received.`);
  if (r.code === Code.TransferAborted) {
    return reply(r.code, `${r.text} ${result.bytes} bytes received and ${atomic ? 'discarded; the file is unchanged' : 'kept'}.`);
  }
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
    case TransferError.TlsFailed:
      return tlsFailed;
    case TransferError.TlsNotResumed:
      return tlsNotResumed;
  }
  if (result.error >= 0) return reply(Code.LocalError, `Transfer failed (error ${result.error}).`);
  const name = getSystemErrorName(result.error);
  return openRefusals[name] ?? fsErrorOf(name)?.reply ?? reply(Code.LocalError, `Local error: ${name}.`);
}
