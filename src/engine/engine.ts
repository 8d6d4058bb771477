// The typed engine: the only consumer of the addon. It turns event batches
// into calls on an EngineHandler, turns (sid, seq) answers into Promises, and
// coalesces the actions of one event-loop turn into one post() to the native side.
import os from 'node:os';
import { type ActionFields, ActionWriter, blankFields } from './actions.js';
import { latin1Text, RepeatedText } from '../protocol/bytes.js';
import { forEachEvent, type RawEvent, viewOf } from './batch.js';
import {
  ActionFlag,
  ActionType,
  CloseReason,
  CopyMode,
  DataProtection,
  EventType,
  FileOp,
  loadBinding,
  type NativeConfig,
  type NativeEngine,
  type NativeLoopStats,
  type NativeStats,
  type NativeTlsConfig,
  type NativeTlsStats,
  TransferError,
  uploadTempPrefix,
  WriteMode,
} from './native.js';

export type SessionId = number;

const none = Buffer.alloc(0);

export type CloseReasonName = 'peerClosed' | 'requested' | 'ioError' | 'outputOverflow' | 'shutdown' | 'closeTimeout';

export interface Endpoint {
  address: string;
  port: number;
}

export interface EngineHandler {
  /** `implicitTls`: it came in on the implicit-TLS listener, its handshake already done. */
  onOpen(sid: SessionId, peer: Endpoint, local: Endpoint, implicitTls: boolean): void;
  /** `line` is a view into the batch: copy it to keep it past the call. */
  onLine(sid: SessionId, line: Buffer, tooLong: boolean): void;
  /**
   * An active connect failed (-errno); the transfer waiting for it ends with
   * ConnectFailed. Also an openData's refusal (-ENOTCONN, -EALREADY), or its
   * connect given up (-ECONNABORTED, -ECONNRESET: the setup or the session went).
   */
  onDataFailed(sid: SessionId, error: number): void;
  /**
   * An active data connection has just come up: its peer (the target). A
   * passive one is counted by the engine (NativeStats passiveControlPeer).
   */
  onDataConnected(sid: SessionId, peer: Endpoint): void;
  /**
   * A passive listener turned away a connection from a host other than the
   * control peer (sid 0: a shared --pasv-ports port with no one session to name).
   */
  onDataRefused(sid: SessionId, peer: Endpoint, listener: Endpoint): void;
  /**
   * A shared --pasv-ports port turned away a late connection: from a host
   * whose reservation of it had just ended (a second connection, or one after
   * a second PASV or the session's close). Not foreign: no address class.
   */
  onPassiveLate(peer: Endpoint, listener: Endpoint): void;
  onClosed(sid: SessionId, reason: CloseReasonName): void;
  /** The client half-closed: no line comes after the ones already delivered. */
  onInputEnded(sid: SessionId): void;
  /**
   * An engine thread's loop failed and that thread stopped ('worker 0',
   * 'acceptor'; error a negated errno): the server cannot go on whole.
   */
  onLoopFailed(loop: string, error: number): void;
  /** startTls succeeded: the control connection speaks TLS (`protocol` 'TLSv1.3', `cipher` 'TLS_AES_256_GCM_SHA384'). */
  onTlsReady(sid: SessionId, protocol: string, cipher: string): void;
  /**
   * startTls or clearControl failed (`reason`: OpenSSL's, short, or 'tls not
   * configured'): the engine closes the session (onClosed follows).
   */
  onTlsFailed(sid: SessionId, reason: string): void;
  /** clearControl succeeded: the control connection is clear text again. */
  onControlCleared(sid: SessionId): void;
  /** A handler above threw: the event is lost, the rest of the batch still runs. */
  onError(error: unknown): void;
}

/*
 * Every action that carries a seq (listenPassive, sendFile, sendBuffer,
 * recvFile, fileOp) is answered by the native side exactly once, even when
 * its session is already gone (then with Aborted / -ECONNRESET). Transfers
 * and listeners end before the session's Closed event; a file operation
 * already running on the engine's file threads may be answered just after it.
 * Those still waiting when the engine stops are answered here (Aborted /
 * -ECANCELED).
 */

const { ECANCELED, ECONNRESET } = os.constants.errno;

/**
 * Whether an answer's errno means its session was gone: closed before the
 * worker took the action (-ECONNRESET), or the engine stopped (-ECANCELED).
 * Nothing is wrong with the server then, and no one is left to answer.
 */
export function isSessionGone(errno: number): boolean {
  return errno === -ECONNRESET || errno === -ECANCELED;
}

/**
 * How a transfer ended. `error` is 0 on success, a TransferError value, or a
 * negated errno (e.g. -2 for ENOENT when the file vanished before it opened).
 * `opened`: its file or listing was open (the preamble queued, `started`
 * called); false when it was refused before, and then a file that did not
 * open (a negated errno) left the data setup in place for the next transfer.
 */
export interface TransferResult {
  bytes: number;
  error: number;
  opened: boolean;
}

/**
 * How recvFile writes (native/engine/protocol.h MUXFTPD_WRITE_MODES): 'replace'
 * writes a hidden temporary beside the file and renames it over the file only
 * when the upload ends without error (offset 0 only).
 */
export type WriteModeName = 'truncate' | 'append' | 'exclusive' | 'replace';

/** PROT C or PROT P (native/engine/protocol.h MUXFTPD_DATA_PROTECTIONS). */
export type DataProtectionName = 'clear' | 'private';

/** What a FileOp does (native/engine/file_ops.h): each runs beneath the session's directory. */
export type FileOpName = 'home' | 'stat' | 'lstat' | 'list' | 'mkdir' | 'rmdir' | 'unlink' | 'rename';

/** A file operation's answer: error 0 or a negated errno; records the stat records (vfs/stat-records.ts decodes them). */
export interface FileOpResult {
  error: number;
  records: Buffer;
}

export { CopyMode, TransferError, uploadTempPrefix };
export type { NativeLoopStats, NativeStats, NativeTlsConfig, NativeTlsStats };

const closeReasonNames: Record<number, CloseReasonName> = {
  [CloseReason.PeerClosed]: 'peerClosed',
  [CloseReason.Requested]: 'requested',
  [CloseReason.IoError]: 'ioError',
  [CloseReason.OutputOverflow]: 'outputOverflow',
  [CloseReason.Shutdown]: 'shutdown',
  [CloseReason.CloseTimeout]: 'closeTimeout',
};

const writeModes: Record<WriteModeName, number> = {
  truncate: WriteMode.Truncate,
  append: WriteMode.Append,
  exclusive: WriteMode.Exclusive,
  replace: WriteMode.Replace,
};

/**
 * The number of `name` in `table`. A custom command is JavaScript the
 * compiler may not have checked: a name the table lacks throws, where it
 * would have become action field 0 (FileOp Home, which moves the session's
 * directory; WriteMode Truncate).
 */
function named(table: Readonly<Record<string, number>>, name: string, what: string): number {
  const v = Object.hasOwn(table, name) ? table[name] : undefined;
  if (v === undefined) throw new RangeError(`no ${what} ${JSON.stringify(name)}`);
  return v;
}

/** A path for the worker, refused with a NUL: the kernel would take what comes before it as the whole path. */
function checkPath(path: string): string {
  if (path.includes('\0')) throw new RangeError(`a path with a NUL: ${JSON.stringify(path)}`);
  return path;
}

/** A data connection's two ends, as the server's socket has them (ESTA, ESTP). */
export interface DataEndpoints {
  peer: Endpoint;
  local: Endpoint;
}

/** Rejection of openData: carries the negated errno from the worker (-ENOTCONN: no data connection). */
export class DataError extends Error {
  constructor(readonly errno: number) {
    super(`no data connection (errno ${-errno})`);
  }
}

/**
 * The replies of a listenPassive, sent by the worker, so the command is answered
 * without waiting for the listener: `template` once it is up, with the port
 * filled in (%P decimal, %H "p1,p2"; protocol/address.ts); `failure` when none
 * could be opened (nothing when the session is gone). `split`: as for reply.
 */
export interface PassiveReplies {
  template: string;
  failure: string;
  split?: boolean;
}

/** The listener's port and 0, or 0 and the negated errno why it failed. */
export type PassiveReady = (port: number, errno: number) => void;

const fileOps: Record<FileOpName, number> = {
  home: FileOp.Home,
  stat: FileOp.Stat,
  lstat: FileOp.Lstat,
  list: FileOp.List,
  mkdir: FileOp.Mkdir,
  rmdir: FileOp.Rmdir,
  unlink: FileOp.Unlink,
  rename: FileOp.Rename,
};

type Pending =
  | { kind: 'passive'; sid: SessionId; ready: PassiveReady }
  | { kind: 'file'; sid: SessionId; resolve: (r: FileOpResult) => void }
  | { kind: 'data'; sid: SessionId; resolve: (r: DataEndpoints) => void; reject: (e: Error) => void }
  | {
      kind: 'transfer';
      sid: SessionId;
      resolve: (r: TransferResult) => void;
      started: (() => void) | undefined;
      ended: ((r: TransferResult) => void) | undefined;
      opened: boolean;
    };

/**
 * How a transfer starts. `preamble`: a formatted reply (the 150) that the
 * worker queues on the control connection only once the file is open, so a
 * file that cannot be opened is answered by its error alone, with no file
 * system round trip from JS first. `epilogue`: a formatted reply (the 226)
 * that the worker queues when the transfer ends without error, right after
 * closing the data connection; a result with error Ok means it was queued.
 * `started`: called when it is open and still running at the end of the
 * worker's batch (never when it fails to open, nor when it ends in the batch
 * it opened in: `opened` in the result says so then).
 * `ended`: called with the result just before the promise resolves, for
 * bookkeeping that must not cost a promise of its own per transfer.
 */
export interface TransferOptions {
  preamble?: string;
  epilogue?: string;
  started?: () => void;
  ended?: (result: TransferResult) => void;
}

function settle(p: Extract<Pending, { kind: 'transfer' }>, bytes: number, error: number): void {
  const result: TransferResult = { bytes, error, opened: p.opened };
  try {
    p.ended?.(result);
  } finally {
    // Whatever the bookkeeping did, the command waiting on it gets its answer.
    p.resolve(result);
  }
}

export class Engine {
  private readonly native: NativeEngine;
  private readonly actions = new ActionWriter();
  private flushScheduled = false;
  private batchBuffer: Buffer | undefined;
  private batchView: DataView = viewOf(Buffer.alloc(0));
  /** Handlers of a batch are running: their actions are posted at its end (onBatch). */
  private inBatch = false;
  private nextSeq = 1;
  private readonly pending = new Map<number, Pending>();
  private stopped = false;
  /** Open's peer and local addresses, which repeat from session to session. */
  private readonly peerText = new RepeatedText();
  private readonly localText = new RepeatedText();
  /** Date.now() when the batch being delivered began (Server reads it per line). */
  batchMs = 0;

  constructor(config: NativeConfig, private readonly handler: EngineHandler) {
    this.native = loadBinding().createEngine(config, (batch, length) => this.onBatch(batch, length));
  }

  address(): Endpoint {
    const a = this.native.address();
    return { address: a.host, port: a.port };
  }

  /** The implicit-TLS listener's address, when the config has one (tls.implicitPort). */
  implicitTlsAddress(): Endpoint | undefined {
    const a = this.native.address();
    return a.implicitTlsPort === 0 ? undefined : { address: a.host, port: a.implicitTlsPort };
  }

  stats(): NativeStats {
    return this.native.stats();
  }

  /** `split`: written in two parts (NativeConfig splitReplyAt, splitReplyPauseMs). */
  reply(sid: SessionId, text: string, split = false): void {
    this.push(ActionType.Reply, sid, { ...blankFields, data: text, flags: split ? ActionFlag.SplitReply : 0 });
  }

  /**
   * Opens a passive listener for the session; the worker answers the command
   * (`replies`), then `ready` is called, from the batch that reports it.
   */
  listenPassive(sid: SessionId, replies: PassiveReplies, ready: PassiveReady): void {
    const seq = this.seq();
    this.push(ActionType.ListenPassive, sid, {
      ...blankFields,
      seq,
      preamble: replies.template,
      epilogue: replies.failure,
      flags: replies.split === true ? ActionFlag.SplitReply : 0,
    });
    this.pending.set(seq, { kind: 'passive', sid, ready });
  }

  /**
   * ESTA, ESTP: connects the active target now (the next transfer uses the
   * connection), or takes the passive connection the client has made;
   * resolves with both ends, rejects with a DataError.
   */
  openData(sid: SessionId): Promise<DataEndpoints> {
    const seq = this.seq();
    return new Promise((resolve, reject) => {
      this.push(ActionType.OpenData, sid, { ...blankFields, seq });
      this.pending.set(seq, { kind: 'data', sid, resolve, reject });
    });
  }

  /** PORT/EPRT: where transfers connect from now on (a download once its file is open; the setup is used once). */
  connectActive(sid: SessionId, host: string, port: number): void {
    this.push(ActionType.ConnectActive, sid, { ...blankFields, data: host, port });
  }

  sendFile(sid: SessionId, relPath: string, offset: number, opts: TransferOptions = {}): Promise<TransferResult> {
    return this.transfer(ActionType.SendFile, sid, checkPath(relPath), offset, 0, opts);
  }

  sendBuffer(sid: SessionId, data: Buffer, opts: TransferOptions = {}): Promise<TransferResult> {
    return this.transfer(ActionType.SendBuffer, sid, data, 0, 0, opts);
  }

  recvFile(sid: SessionId, relPath: string, offset: number, mode: WriteModeName, opts: TransferOptions = {}): Promise<TransferResult> {
    return this.transfer(ActionType.RecvFile, sid, checkPath(relPath), offset, named(writeModes, mode, 'write mode'), opts);
  }

  /**
   * One file-system operation, done by the kernel beneath the session's
   * directory on the engine's own threads (no path checked here is used later:
   * nothing a local process swaps meanwhile leads it out). `path` is relative
   * to that directory ('.' or 'a/b'); `path2` is rename's new path. 'home'
   * makes `path` (relative to the served root) the session's directory.
   */
  fileOp(sid: SessionId, op: FileOpName, path: string, path2?: string): Promise<FileOpResult> {
    // Checked before the promise: an untyped caller's mistake throws to it.
    const code = named(fileOps, op, 'file operation');
    checkPath(path);
    if (path2 !== undefined) checkPath(path2);
    const seq = this.seq();
    return new Promise((resolve) => {
      this.push(ActionType.FileOp, sid, { ...blankFields, seq, op: code, data: path, preamble: path2 });
      this.pending.set(seq, { kind: 'file', sid, resolve });
    });
  }

  /** Drops the data connection, listener and transfer; a running transfer ends with Aborted. */
  abort(sid: SessionId): void {
    this.push(ActionType.Abort, sid);
  }

  /** Flushes the replies already queued, then closes the session. */
  close(sid: SessionId): void {
    this.push(ActionType.Close, sid);
  }

  /**
   * Stops reading the session's control connection, so its client meets TCP
   * backpressure; lines the worker has already read still arrive. Separate
   * from the worker's own pause when JS falls behind: neither lifts the other.
   */
  pauseInput(sid: SessionId): void {
    this.push(ActionType.PauseInput, sid);
  }

  /** Reads the session's control connection again after pauseInput. */
  resumeInput(sid: SessionId): void {
    this.push(ActionType.ResumeInput, sid);
  }

  /**
   * AUTH TLS: the replies queued before this (the 234) go out in clear, then
   * the worker runs the TLS handshake on the control connection, reading no
   * line until it ends: onTlsReady, or onTlsFailed and the session closes.
   */
  startTls(sid: SessionId): void {
    this.push(ActionType.StartTls, sid);
  }

  /**
   * CCC: the replies queued before this (the 200) go out over TLS, then
   * close_notify is exchanged and the control connection is clear text again:
   * onControlCleared, or onTlsFailed and the session closes.
   */
  clearControl(sid: SessionId): void {
    this.push(ActionType.ClearControl, sid);
  }

  /**
   * PROT C / PROT P: whether data connections set up from now on (passive or
   * active) are TLS servers, before any transfer byte moves.
   */
  dataProtection(sid: SessionId, protection: DataProtectionName): void {
    this.push(ActionType.DataProtection, sid, { ...blankFields, mode: protection === 'private' ? DataProtection.Private : DataProtection.Clear });
  }

  /** Refuses new clients from now on; open sessions go on (graceful drain). */
  stopAccepting(): void {
    this.native.stopAccepting();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.flush();
    this.stopped = true;
    this.native.stop();
    for (const [seq, p] of this.pending) {
      this.pending.delete(seq);
      try {
        if (p.kind === 'passive') p.ready(0, -ECANCELED);
        else if (p.kind === 'data') p.reject(new DataError(-ECANCELED));
        else if (p.kind === 'file') p.resolve({ error: -ECANCELED, records: none });
        else settle(p, 0, TransferError.Aborted);
      } catch (e) {
        // Bookkeeping that throws must not leave the other transfers unanswered.
        this.handler.onError(e);
      }
    }
  }

  private transfer(
    type: number,
    sid: SessionId,
    data: string | Buffer,
    offset: number,
    mode: number,
    opts: TransferOptions,
  ): Promise<TransferResult> {
    const seq = this.seq();
    // Pushed first, outside the promise: an action the writer refuses (a bad
    // number) throws to the caller and leaves nothing pending.
    this.push(type, sid, { ...blankFields, seq, data, offset, mode, preamble: opts.preamble, epilogue: opts.epilogue });
    return new Promise((resolve) => {
      this.pending.set(seq, { kind: 'transfer', sid, resolve, started: opts.started, ended: opts.ended, opened: false });
    });
  }

  private seq(): number {
    const s = this.nextSeq;
    this.nextSeq = s >= 0xffffffff ? 1 : s + 1;
    return s;
  }

  private push(type: number, sid: SessionId, fields?: ActionFields): void {
    if (this.stopped) return;
    this.actions.add(type, sid, fields);
    if (!this.flushScheduled && !this.inBatch) {
      this.flushScheduled = true;
      // Outside a batch (a promise continuation, a timer, a password check):
      // in the check phase, after every continuation of this turn, one post
      // (and one wakeup of each worker) for all of them. A microtask here
      // flushed again for each continuation that acted (1.45 posts per file
      // on 100 new sessions a file, against 1.64 batches).
      setImmediate(this.flushNow);
    }
  }

  private readonly flushNow = (): void => this.flush();

  private flush(): void {
    this.flushScheduled = false;
    this.post();
  }

  /** Posts what is queued (a pending setImmediate then finds nothing). */
  private post(): void {
    if (this.actions.empty || this.stopped) return;
    this.native.post(this.actions.take());
  }

  private onBatch(batch: Buffer, length: number): void {
    if (this.stopped) return;
    // The addon encodes every batch into one buffer (a new one only when it grows).
    if (batch !== this.batchBuffer) {
      this.batchBuffer = batch;
      this.batchView = viewOf(batch);
    }
    // The actions of a batch's handlers are posted at its end, at once: the
    // hot commands (a login, EPSV, RETR) act only there, so a turn needs no
    // setImmediate (its Immediate, its check-phase callback) for them. What
    // their continuations do after the batch is flushed as above.
    this.inBatch = true;
    this.batchMs = Date.now();
    try {
      forEachEvent(batch, this.onEvent, length, this.batchView);
    } finally {
      this.inBatch = false;
    }
    this.post();
  }

  private readonly onEvent = (ev: RawEvent): void => {
    try {
      this.dispatch(ev);
    } catch (e) {
      this.handler.onError(e);
    }
  };

  private dispatch(ev: RawEvent): void {
    switch (ev.type) {
      case EventType.Open:
        this.handler.onOpen(
          ev.sid,
          { address: this.peerText.of(ev.text), port: ev.port },
          { address: this.localText.of(ev.second), port: ev.localPort },
          ev.flag === 1,
        );
        break;
      case EventType.TlsReady: {
        const text = latin1Text(ev.text);
        const space = text.indexOf(' ');
        this.handler.onTlsReady(ev.sid, space < 0 ? text : text.slice(0, space), space < 0 ? '' : text.slice(space + 1));
        break;
      }
      case EventType.TlsFailed:
        this.handler.onTlsFailed(ev.sid, latin1Text(ev.text));
        break;
      case EventType.ControlCleared:
        this.handler.onControlCleared(ev.sid);
        break;
      case EventType.Line:
        this.handler.onLine(ev.sid, ev.text, ev.flag === 1);
        break;
      case EventType.PassiveReady: {
        const p = this.take(ev.seq);
        if (p?.kind === 'passive') p.ready(ev.error === 0 ? ev.port : 0, ev.error);
        break;
      }
      case EventType.DataFailed: {
        // With a seq, the answer to an openData too.
        const p = ev.seq === 0 ? undefined : this.take(ev.seq);
        if (p?.kind === 'data') p.reject(new DataError(ev.error));
        this.handler.onDataFailed(ev.sid, ev.error);
        break;
      }
      case EventType.DataConnected: {
        const peer = { address: latin1Text(ev.text), port: ev.port };
        if (ev.flag === 1) this.handler.onDataConnected(ev.sid, peer);
        const p = ev.seq === 0 ? undefined : this.take(ev.seq);
        if (p?.kind === 'data') p.resolve({ peer, local: { address: latin1Text(ev.second), port: ev.localPort } });
        break;
      }
      case EventType.DataRefused: {
        const peer = { address: latin1Text(ev.text), port: ev.port };
        const listener = { address: latin1Text(ev.second), port: ev.localPort };
        if (ev.flag === 1) this.handler.onPassiveLate(peer, listener);
        else this.handler.onDataRefused(ev.sid, peer, listener);
        break;
      }
      case EventType.TransferDone: {
        const p = this.take(ev.seq);
        if (p?.kind !== 'transfer') break;
        // Opened, and ended in the batch it opened in: its TransferStarted was left out.
        if (ev.flag === 1) p.opened = true;
        settle(p, ev.bytes, ev.error);
        break;
      }
      case EventType.Closed:
        this.handler.onClosed(ev.sid, closeReasonNames[ev.flag] ?? 'ioError');
        break;
      case EventType.InputEnded:
        this.handler.onInputEnded(ev.sid);
        break;
      case EventType.LoopFailed:
        this.handler.onLoopFailed(ev.text.toString('latin1'), ev.error);
        break;
      case EventType.FileDone: {
        const p = this.take(ev.seq);
        // A copy: the event's text is a view into the batch.
        if (p?.kind === 'file') p.resolve({ error: ev.error, records: ev.text.length === 0 ? none : Buffer.from(ev.text) });
        break;
      }
      case EventType.TransferStarted: {
        const p = this.pending.get(ev.seq);
        if (p?.kind === 'transfer') {
          p.opened = true;
          p.started?.();
        }
        break;
      }
    }
  }

  private take(seq: number): Pending | undefined {
    const p = this.pending.get(seq);
    if (p !== undefined) this.pending.delete(seq);
    return p;
  }
}
