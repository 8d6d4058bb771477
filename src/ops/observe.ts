// The engine as command handlers see it, with every transfer observed: what
// it moves (file or listing), from when, and how it ended. Handlers need no
// change to be logged and counted.
import type { EngineActions } from '../commands/types.js';
import type { SessionId, TransferResult } from '../engine/engine.js';
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
  started(sid: SessionId): void;
  ended(record: TransferRecord): void;
}

export function observeTransfers(engine: EngineActions, observer: TransferObserver): EngineActions {
  const track = (
    sid: SessionId,
    kind: TransferKind,
    rel: string | null,
    offset: number,
    run: Promise<TransferResult>,
  ): Promise<TransferResult> => {
    const startedMs = performance.now();
    observer.started(sid);
    return run.then((result) => {
      observer.ended({ sid, kind, rel, offset, startedMs, result });
      return result;
    });
  };
  return {
    reply: (sid, text) => engine.reply(sid, text),
    listenPassive: (sid, replyTemplate) => engine.listenPassive(sid, replyTemplate),
    connectActive: (sid, host, port) => engine.connectActive(sid, host, port),
    sendFile: (sid, rel, offset, preamble) => track(sid, 'download', rel, offset, engine.sendFile(sid, rel, offset, preamble)),
    sendBuffer: (sid, data, preamble) => track(sid, 'listing', null, 0, engine.sendBuffer(sid, data, preamble)),
    recvFile: (sid, rel, offset, mode, preamble) =>
      track(sid, 'upload', rel, offset, engine.recvFile(sid, rel, offset, mode, preamble)),
    abort: (sid) => engine.abort(sid),
    close: (sid) => engine.close(sid),
  };
}
