// The engine as command handlers see it, with every transfer observed: what
// it moves (file or listing), from when, and how it ended. Handlers need no
// change to be logged and counted.
import type { EngineActions } from '../commands/types.js';
import type { SessionId, TransferOptions, TransferResult } from '../engine/engine.js';
import type { TransferKind } from './counters.js';

export interface TransferRecord {
  sid: SessionId;
  kind: TransferKind;
  /** Path relative to the root ('a/b.bin'); null for listings. */
  rel: string | null;
  /** Byte offset the transfer started at (REST). */
  offset: number;
  startedMs: number;
  result: TransferResult;
}

export interface TransferObserver {
  /** Asked of the engine (running from now on). */
  started(sid: SessionId): void;
  /** Ended after its file opened. */
  ended(record: TransferRecord): void;
  /** Its file did not open: no transfer took place. */
  refused(sid: SessionId): void;
}

export function observeTransfers(engine: EngineActions, observer: TransferObserver): EngineActions {
  const track = (
    sid: SessionId,
    kind: TransferKind,
    rel: string | null,
    offset: number,
    opts: TransferOptions | undefined,
    run: (opts: TransferOptions) => Promise<TransferResult>,
  ): Promise<TransferResult> => {
    // Running from the request on (a drain waits for it), but counted and
    // logged as a transfer only once the file opened: a file that fails to
    // open is a refused command (550), not a failed transfer.
    // A callback, not a .then: a promise per transfer here is garbage on the hot path.
    const startedMs = performance.now();
    observer.started(sid);
    return run({
      preamble: opts?.preamble,
      epilogue: opts?.epilogue,
      started: opts?.started,
      ended: (result) => {
        if (result.opened) observer.ended({ sid, kind, rel, offset, startedMs, result });
        else observer.refused(sid);
        opts?.ended?.(result);
      },
    });
  };
  return {
    reply: (sid, text, split) => engine.reply(sid, text, split),
    listenPassive: (sid, replies, ready) => engine.listenPassive(sid, replies, ready),
    openData: (sid) => engine.openData(sid),
    connectActive: (sid, host, port) => engine.connectActive(sid, host, port),
    sendFile: (sid, rel, offset, opts) => track(sid, 'download', rel, offset, opts, (o) => engine.sendFile(sid, rel, offset, o)),
    sendBuffer: (sid, data, opts) => track(sid, 'listing', null, 0, opts, (o) => engine.sendBuffer(sid, data, o)),
    recvFile: (sid, rel, offset, mode, opts) =>
      track(sid, 'upload', rel, offset, opts, (o) => engine.recvFile(sid, rel, offset, mode, o)),
    abort: (sid) => engine.abort(sid),
    close: (sid) => engine.close(sid),
    fileOp: (sid, op, path, path2) => engine.fileOp(sid, op, path, path2),
    startTls: (sid) => engine.startTls(sid),
    clearControl: (sid) => engine.clearControl(sid),
    dataProtection: (sid, protection) => engine.dataProtection(sid, protection),
  };
}
