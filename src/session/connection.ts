// One client on the TypeScript side: its lines are decoded, parsed and run
// strictly in order. While a handler is still running (async), later lines
// wait in a queue; when it grows long the engine stops reading the client's
// socket until it drains (backpressure for pipelining clients). While a
// transfer runs, commands marked duringTransfer (ABOR, STAT, NOOP) run
// at once, one at a time, on a side lane; the rest wait for the transfer's
// command to finish. The Connection is also the CommandContext its handlers get.
import { dispatch, failureReply } from '../commands/dispatch.js';
import type { Accounts } from '../auth/accounts.js';
import type { LoginChecks } from '../auth/logins.js';
import type { CommandContext, CommandEvent, CommandRegistry, CommandSpec, EngineActions, TransferHooks } from '../commands/types.js';
import type { Config } from '../config/settings.js';
import { type Endpoint, type Engine, type SessionId, TransferError, type TransferResult } from '../engine/engine.js';
import type { Logger } from '../log.js';
import { decodeLine } from '../protocol/decode.js';
import { parseLine } from '../protocol/parser.js';
import { SessionFiles } from '../vfs/files.js';
import { closingReply, Code, formatReply, type Reply, reply } from '../protocol/replies.js';
import { Session, type TlsOffer } from './session.js';

/** Reading a session's control connection on and off: the connection's own, not its handlers'. */
export type InputFlow = Pick<Engine, 'pauseInput' | 'resumeInput'>;

/**
 * How many lines one session may have waiting behind a running command. At
 * pauseAt the engine stops reading its socket, so the client meets TCP
 * backpressure, until the queue drains to resumeAt. Lines the engine read
 * before the pause took effect still arrive and wait too; one more than max
 * closes the connection with 421.
 */
export interface WaitingLimits {
  readonly pauseAt: number;
  readonly resumeAt: number;
  readonly max: number;
}

/** What every connection of a server shares. */
export interface Shared {
  readonly config: Readonly<Config>;
  readonly accounts: Accounts;
  readonly logins: LoginChecks;
  readonly engine: EngineActions;
  readonly input: InputFlow;
  readonly commands: CommandRegistry;
  readonly log: Logger;
  readonly waiting: WaitingLimits;
  /** The server drains (set once by Server.drain): data commands get 421. */
  draining: boolean;
  /** Where the handlers' reports go (ctx.report). */
  readonly report: (session: Session, event: CommandEvent) => void;
}

/** A line ready to run: a command, or the refusal its parsing produced. */
interface Entry {
  readonly verb: string;
  readonly arg: string;
  readonly spec: CommandSpec | undefined;
  readonly refusal: Reply | undefined;
}

const lineTooLong = reply(Code.SyntaxError, 'Command line too long.');
const notUtf8 = reply(Code.SyntaxErrorArgs, 'Command is not valid UTF-8.');
const tooManyWaiting = closingReply(Code.ServiceNotAvailable, 'Too many commands waiting; closing control connection.');
const closedResult: TransferResult = { bytes: 0, error: TransferError.Aborted, opened: false };

export class Connection implements CommandContext {
  readonly session: Session;
  readonly files: SessionFiles;
  /** When the connection opened, and when its last line arrived (ms; the server's sweep clock). */
  readonly openedAt: number;
  lastActive: number;
  /** At the last sweep it was transferring or had commands running (limits.ts): not idle. */
  waitedOnServer = false;
  private mainBusy = false;
  private sideBusy = false;
  private closed = false;
  /** The client half-closed: once every line it sent is answered, the session closes. */
  private noMoreInput = false;
  /** The server is closing this session (shutDown): lines still arriving are not run. */
  private goingAway = false;
  /** A transfer's file is open: commands marked duringTransfer may run beside it. */
  private sideLaneOpen = false;
  /** The engine was asked to stop reading this session (its queue reached pauseAt). */
  private inputPaused = false;
  private readonly waiting: Entry[] = [];
  private mainDoneWaiters: (() => void)[] = [];

  constructor(
    sid: SessionId,
    peer: Endpoint,
    local: Endpoint,
    private readonly shared: Shared,
    now = Date.now(),
    /** It came from the implicit FTPS listener: TLS is on already. */
    implicitTls = false,
  ) {
    this.session = new Session(sid, peer, local, tlsOfferOf(shared.config), implicitTls);
    this.files = new SessionFiles(shared.engine, sid);
    this.openedAt = now;
    this.lastActive = now;
  }

  /** Nothing more is sent: closed by a reply, by the engine, or by the server stopping. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Commands are running or waiting: the client waits for the server, it is not idle. */
  get busy(): boolean {
    return this.mainBusy || this.sideBusy || this.waiting.length > 0;
  }

  get config(): Readonly<Config> {
    return this.shared.config;
  }

  get accounts(): Accounts {
    return this.shared.accounts;
  }

  get logins(): LoginChecks {
    return this.shared.logins;
  }

  get engine(): EngineActions {
    return this.shared.engine;
  }

  get commands(): CommandRegistry {
    return this.shared.commands;
  }

  get log(): Logger {
    return this.shared.log;
  }

  get draining(): boolean {
    return this.shared.draining;
  }

  /**
   * A control line from the engine (without its CRLF). Between AUTH TLS and
   * the end of its handshake a line can only be one the client sent in clear
   * behind AUTH: it is dropped, never run as if it came over TLS.
   */
  line(bytes: Buffer, tooLong: boolean): void {
    if (this.closed || this.goingAway || this.session.controlTls === 'starting') return;
    const entry = this.entryOf(bytes, tooLong);
    if (this.mayRunNow(entry)) this.run(entry);
    else if (this.waiting.length >= this.shared.waiting.max) this.send(tooManyWaiting);
    else this.wait(entry);
  }

  /** `split`: in two writes (--split-reply-verbs). */
  send(r: Reply, split = false): void {
    if (this.closed) return;
    if (r.sent !== true) this.shared.engine.reply(this.session.sid, formatReply(r), split);
    if (r.close === true) {
      this.shared.engine.close(this.session.sid);
      this.dropped();
    }
  }

  report(event: CommandEvent): void {
    this.shared.report(this.session, event);
  }

  transfer(start: (hooks: TransferHooks) => unknown, done: (result: TransferResult) => void): void {
    if (this.closed) {
      done(closedResult);
      return;
    }
    this.session.transferring = true;
    try {
      // The end is seen in the engine's batch, not a promise continuation later.
      start({
        started: this.transferStarted,
        ended: (r) => {
          this.transferEnded();
          done(r);
        },
      });
    } catch (e) {
      this.transferEnded();
      throw e;
    }
  }

  /**
   * The side lane opens once the engine has the file open (and its 150
   * queued): a command waiting behind a RETR of a missing file is answered
   * after the 550, and an ABOR reaches the engine after the transfer. A
   * transfer that ended in the batch it opened in never opens it: what
   * waits runs after the transfer.
   */
  private readonly transferStarted = (): void => {
    if (!this.session.transferring) return;
    this.sideLaneOpen = true;
    this.pump();
  };

  private transferEnded(): void {
    this.session.transferring = false;
    this.sideLaneOpen = false;
  }

  afterTransfer(): Promise<void> {
    if (!this.mainBusy || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.mainDoneWaiters.push(resolve));
  }

  /**
   * The client will send nothing more (a half-close): close once its lines
   * are answered. During a transfer it means the client is leaving (it can no
   * longer send ABOR): the transfer is aborted with the session, as before.
   */
  inputEnded(): void {
    this.noMoreInput = true;
    if (this.session.transferring && !this.closed) {
      this.shared.engine.close(this.session.sid);
      this.dropped();
      return;
    }
    this.closeIfAnswered();
  }

  /**
   * The end of a drain: the server is going away. Lines not yet run are
   * dropped; a running transfer is aborted, and its command answers it (426,
   * RFC 959 4.1.3); then `goodbye` (a 421) is sent and the session closed.
   */
  shutDown(goodbye: Reply): void {
    if (this.closed || this.goingAway) return;
    this.goingAway = true;
    this.waiting.length = 0;
    if (!this.session.transferring) {
      this.send(goodbye);
      return;
    }
    this.shared.engine.abort(this.session.sid);
    void this.afterTransfer().then(() => this.send(goodbye));
  }

  /** The engine finished the handshake AUTH TLS started: lines are run again, now over TLS. */
  tlsReady(): void {
    if (this.session.controlTls === 'starting') this.session.controlTls = 'on';
  }

  /** The engine closed the session, or the server is stopping: nothing more is sent. */
  dropped(): void {
    this.closed = true;
    this.waiting.length = 0;
    this.wakeMainDoneWaiters();
  }

  private entryOf(bytes: Buffer, tooLong: boolean): Entry {
    if (tooLong) return refused(lineTooLong);
    const text = decodeLine(bytes);
    if (text === undefined) return refused(notUtf8);
    const parsed = parseLine(text);
    if (!parsed.ok) return refused(parsed.reply);
    const spec = this.shared.commands.get(parsed.verb);
    return { verb: parsed.verb, arg: parsed.arg, spec, refusal: undefined };
  }

  private mayRunNow(entry: Entry): boolean {
    if (this.sideBusy) return false;
    if (!this.mainBusy) return this.waiting.length === 0;
    return this.sideLaneOpen && entry.spec?.duringTransfer === true;
  }

  /** Index of the next waiting entry that may run, or -1. */
  private nextRunnable(): number {
    // Nothing waits: the common case, at every command's end and every transfer's start.
    if (this.sideBusy || this.waiting.length === 0) return -1;
    if (!this.mainBusy) return 0;
    if (!this.sideLaneOpen) return -1;
    return this.waiting.findIndex((e) => e.spec?.duringTransfer === true);
  }

  private pump(): void {
    while (!this.closed) {
      const i = this.nextRunnable();
      if (i < 0) return;
      const entry = i === 0 ? this.waiting.shift() : this.waiting.splice(i, 1)[0];
      if (this.inputPaused && this.waiting.length <= this.shared.waiting.resumeAt) {
        this.inputPaused = false;
        this.shared.input.resumeInput(this.session.sid);
      }
      if (entry !== undefined) this.run(entry);
    }
  }

  /** Lines that came in clear behind AUTH TLS (see line()); the handshake needs the socket read again. */
  private dropWaiting(): void {
    this.waiting.length = 0;
    if (!this.inputPaused) return;
    this.inputPaused = false;
    this.shared.input.resumeInput(this.session.sid);
  }

  private wait(entry: Entry): void {
    this.waiting.push(entry);
    if (!this.inputPaused && this.waiting.length >= this.shared.waiting.pauseAt) {
      this.inputPaused = true;
      this.shared.input.pauseInput(this.session.sid);
    }
  }

  private run(entry: Entry): void {
    const side = this.mainBusy;
    if (side) this.sideBusy = true;
    else this.mainBusy = true;
    const result = entry.refusal ?? dispatch(this, entry.verb, entry.arg, entry.spec);
    // An empty list (the default) answers at once: no lookup per command.
    const split = this.shared.config.splitReplyVerbs.length > 0 && this.shared.config.splitReplyVerbs.includes(entry.verb);
    if (result instanceof Promise) {
      result.then(
        (r) => this.settle(side, r, split),
        (e: unknown) => {
          try {
            this.settle(side, failureReply(this, entry.verb, e), split);
          } catch (err) {
            this.fail(err);
          }
        },
      );
      return;
    }
    this.release(side, result, split);
  }

  private settle(side: boolean, r: Reply, split: boolean): void {
    try {
      this.release(side, r, split);
      this.pump();
    } catch (e) {
      this.fail(e);
    }
  }

  private release(side: boolean, r: Reply, split: boolean): void {
    this.send(r, split);
    if (this.session.controlTls === 'starting') this.dropWaiting();
    if (side) {
      this.sideBusy = false;
    } else {
      this.mainBusy = false;
      this.wakeMainDoneWaiters();
    }
    this.closeIfAnswered();
  }

  private closeIfAnswered(): void {
    if (!this.noMoreInput || this.closed || this.mainBusy || this.sideBusy || this.waiting.length > 0) return;
    this.shared.engine.close(this.session.sid);
    this.dropped();
  }

  /** A bug on the async path (e.g. a custom handler resolving to no reply): log, close this session only. */
  private fail(e: unknown): void {
    this.shared.log.error(`session ${this.session.sid}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    this.shared.engine.close(this.session.sid);
    this.dropped();
  }

  private wakeMainDoneWaiters(): void {
    if (this.mainDoneWaiters.length === 0) return;
    const waiters = this.mainDoneWaiters;
    this.mainDoneWaiters = [];
    for (const wake of waiters) wake();
  }
}

function tlsOfferOf(config: Readonly<Config>): TlsOffer {
  if (config.tlsCert === null) return 'off';
  return config.tlsRequired ? 'required' : 'offered';
}

function refused(r: Reply): Entry {
  return { verb: '', arg: '', spec: undefined, refusal: r };
}
