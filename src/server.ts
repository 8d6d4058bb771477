// Wires the engine's events to connections: the EngineHandler of a server.
import os from 'node:os';
import { getSystemErrorName } from 'node:util';
import type { Accounts } from './auth/accounts.js';
import type { FailureExchange } from './auth/failed-logins.js';
import { Logins } from './auth/logins.js';
import type { PoolStats } from './auth/password-pool.js';
import type { CommandEvent, CommandRegistry, EngineActions } from './commands/types.js';
import type { Config } from './config/settings.js';
import type { CloseReasonName, Endpoint, EngineHandler, SessionId } from './engine/engine.js';
import type { NativeStats } from './engine/native.js';
import type { Logger } from './log.js';
import { classifyActive, type DataAddressClass, isMismatch, MismatchLog, showEndpoint } from './ops/address-truth.js';
import { type CounterSnapshot, Counters } from './ops/counters.js';
import { instrument } from './ops/instrument.js';
import { observeTransfers } from './ops/observe.js';
import { Reporter } from './ops/reporter.js';
import type { TransferLog } from './ops/xferlog.js';
import { closingReply, Code } from './protocol/replies.js';
import { Connection, type InputFlow, type Shared, type WaitingLimits } from './session/connection.js';
import { Limits } from './session/limits.js';
import type { Session } from './session/session.js';

/** The engine as the server drives it (the real Engine, or a fake in unit tests). */
export interface EngineControl extends EngineActions, InputFlow {
  address(): Endpoint;
  stats(): NativeStats;
  /** Date.now() when the event batch being delivered began: one clock read per batch, not one per line. */
  readonly batchMs: number;
  /** Closes the control listener; open sessions go on (graceful drain). */
  stopAccepting(): void;
  stop(): Promise<void>;
}

export type ServerStats = NativeStats &
  CounterSnapshot & {
    /** Password checks on the password threads now, and waiting for one (--auth-threads, --auth-queue). */
    passwordChecks: PoolStats;
  };

export interface ServerParts {
  config: Readonly<Config>;
  /** The accounts of --users (none when absent). */
  accounts?: Accounts;
  commands: CommandRegistry;
  log: Logger;
  /** --xferlog, opened. */
  xferlog?: TransferLog;
  /** The engine cannot go on (a thread's loop failed): the owner stops the server. */
  onFatal?: (error: Error) => void;
  /** With --processes: the failed logins of the other server processes. */
  failures?: FailureExchange;
}

/** How often the login and idle timeouts are checked, over all sessions at once. */
const sweepMs = 1000;

/**
 * Lines one session may have waiting behind a running command (see
 * WaitingLimits). A pipelining client is paused at 64 and read again at 16.
 * What arrives after the pause is only what the engine read before it took
 * effect, a few reads of at most 16 KiB, so 1024 (one 16 KiB read of 16-byte
 * lines) is reached only by a client that writes about a thousand commands
 * before reading a reply, or floods: that one gets 421 and is closed.
 */
const waitingLines: WaitingLimits = { pauseAt: 64, resumeAt: 16, max: 1024 };
const greeting = '220 muxftpd ready\r\n';

/** The last reply of every session at the end of a drain (RFC 959 4.2). */
const shuttingDown = closingReply(Code.ServiceNotAvailable, 'Server shutting down; closing control connection.');

/**
 * At the end of a drain, how long the sessions' last replies (a transfer's
 * 426, then the 421) may take to reach their clients before the engine stops.
 * The engine closes a session once its replies are out, or after
 * --close-timeout for a client that reads nothing; this bounds both.
 */
const goodbyeGraceMs = 2000;
const pollMs = 50;

export class Server implements EngineHandler {
  readonly engine: EngineControl;
  private readonly shared: Shared;
  private readonly connections = new Map<SessionId, Connection>();
  readonly counters = new Counters();
  private readonly limits: Limits;
  private readonly logins: Logins;
  private readonly reporter: Reporter;
  private readonly sweeper: NodeJS.Timeout;
  private readonly mismatches: MismatchLog;

  constructor(
    private readonly parts: ServerParts,
    makeEngine: (handler: EngineHandler) => EngineControl,
  ) {
    this.engine = makeEngine(this);
    this.limits = new Limits(parts.config, this.counters);
    this.logins = new Logins(parts.config, (limit) => this.counters.limit(limit), parts.failures);
    this.mismatches = new MismatchLog(parts.log);
    this.reporter = new Reporter(parts.log, this.counters, (sid) => this.connections.get(sid)?.session, parts.xferlog);
    const commands = instrument(parts.commands, (verb) => this.counters.commandCounter(verb));
    const engine = observeTransfers(this.engine, this.reporter);
    const report = (session: Session, event: CommandEvent) => this.reported(session, event);
    this.shared = { accounts: new Map(), ...parts, logins: this.logins, commands, engine, input: this.engine, waiting: waitingLines, draining: false, report };
    this.sweeper = setInterval(() => this.sweep(Date.now()), sweepMs).unref();
  }

  stats(): ServerStats {
    const native = this.engine.stats();
    return { ...native, ...this.counters.snapshot(native), passwordChecks: this.logins.stats() };
  }

  get sessions(): number {
    return this.connections.size;
  }

  onOpen(sid: SessionId, peer: Endpoint, local: Endpoint, implicitTls: boolean): void {
    const connection = new Connection(sid, peer, local, this.shared, this.engine.batchMs, implicitTls);
    this.connections.set(sid, connection);
    this.reporter.sessionStart(connection.session);
    this.engine.reply(sid, greeting);
  }

  onLine(sid: SessionId, line: Buffer, tooLong: boolean): void {
    const connection = this.connections.get(sid);
    if (connection === undefined) return;
    connection.lastActive = this.engine.batchMs;
    try {
      connection.line(line, tooLong);
    } catch (e) {
      // A bug must cost one session, never the process or the rest of the batch.
      this.shared.log.error(`session ${sid}: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      this.engine.close(sid);
      connection.dropped();
    }
  }

  onDataFailed(sid: SessionId, error: number): void {
    // The transfer's own result reports a failed connect; this is for the log and the address truth.
    this.shared.log.debug(`session ${sid}: data connection failed (errno ${-error})`);
    if (!isConnectFailure(-error)) return;
    const session = this.connections.get(sid)?.session;
    if (session?.truth?.mode === 'active') this.classify(session, classifyActive(session.truth.said.host, session.peer.address, 'failed'), undefined);
  }

  /** Active only: the worker counts passive ones itself (it takes only the control peer's, the others are refused). */
  onDataConnected(sid: SessionId, peer: Endpoint): void {
    const session = this.connections.get(sid)?.session;
    const truth = session?.truth;
    if (session === undefined || truth?.mode !== 'active') return;
    this.classify(session, classifyActive(truth.said.host, session.peer.address, 'connected'), peer);
  }

  onDataRefused(sid: SessionId, peer: Endpoint, listener: Endpoint): void {
    this.counters.dataAddresses.passiveForeignRefused += 1;
    const session = this.connections.get(sid)?.session;
    const announced = session?.truth?.mode === 'passive' ? showEndpoint(session.truth.announced) : 'unknown';
    this.mismatches.note(`passive data connection from ${showEndpoint(peer)} refused: not the control peer`, {
      session: sid,
      class: 'passiveForeignRefused',
      controlPeer: session === undefined ? 'unknown' : session.peer.address,
      announced,
      listener: showEndpoint(listener),
      dataPeer: showEndpoint(peer),
    });
  }

  onPassiveLate(peer: Endpoint, listener: Endpoint): void {
    this.counters.passiveLate += 1;
    this.shared.log.debug(`late passive data connection from ${showEndpoint(peer)} to ${showEndpoint(listener)} closed: its reservation had ended`);
  }

  /** AUTH TLS's handshake is done: the session's lines run again, over TLS. */
  onTlsReady(sid: SessionId, protocol: string, cipher: string): void {
    this.connections.get(sid)?.tlsReady();
    this.shared.log.debug(`session ${sid}: TLS ready (${protocol} ${cipher})`);
  }

  /** A failed handshake or CCC shutdown is the client's doing (a debug line); the engine closes the session, onClosed follows. */
  onTlsFailed(sid: SessionId, reason: string): void {
    this.shared.log.debug(`session ${sid}: TLS failed: ${reason}`);
  }

  /** CCC's shutdown is done: the session's state said clear already (tls.ts ccc). */
  onControlCleared(sid: SessionId): void {
    this.shared.log.debug(`session ${sid}: control connection clear again (CCC)`);
  }

  onInputEnded(sid: SessionId): void {
    this.connections.get(sid)?.inputEnded();
  }

  onLoopFailed(loop: string, error: number): void {
    this.counters.loopFailures += 1;
    const failure = new Error(`the engine's ${loop} loop failed (${getSystemErrorName(error)}) and stopped; the server stops rather than serve part of its clients`);
    this.shared.log.error(failure.message);
    this.parts.onFatal?.(failure);
  }

  onError(error: unknown): void {
    this.shared.log.error(`event handler failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }

  onClosed(sid: SessionId, reason: CloseReasonName): void {
    // Limits the engine applied itself: a client that left its replies unread.
    if (reason === 'outputOverflow' || reason === 'closeTimeout') this.counters.limit(reason);
    const connection = this.connections.get(sid);
    if (connection === undefined) return;
    this.connections.delete(sid);
    connection.dropped();
    this.reporter.sessionEnd(connection.session, reason, connection.openedAt);
  }

  /**
   * Graceful shutdown: stops accepting and starting transfers (a data command
   * gets 421 and its session is closed), lets running transfers finish for
   * up to `timeoutMs`, then says goodbye: a transfer still running is aborted
   * and answered 426 by its own command, every session gets 421 and is
   * closed. Then the engine stops.
   */
  async drain(timeoutMs: number): Promise<void> {
    this.engine.stopAccepting();
    this.shared.draining = true;
    await until(() => this.counters.transfersRunning === 0, timeoutMs);
    for (const connection of this.connections.values()) connection.shutDown(shuttingDown);
    // The engine reports each session closed once its last replies are out (or it gave up on them).
    await until(() => this.connections.size === 0, goodbyeGraceMs);
    await this.close();
  }

  /** Stops the engine and the password threads; sessions the engine no longer reports are dropped here. */
  async close(): Promise<void> {
    clearInterval(this.sweeper);
    await Promise.all([this.engine.stop(), this.logins.close()]);
    for (const connection of this.connections.values()) connection.dropped();
    this.connections.clear();
  }

  /** The login and idle timeouts; failed logins that left --login-failure-window. */
  private sweep(now: number): void {
    this.limits.sweep(this.connections.values(), now);
    this.logins.prune(now);
  }

  /**
   * What a handler reported (ctx.report): a login is logged, a refused bounce
   * counted (the failed-login caps are counted where they are decided, auth/logins.ts).
   */
  private reported(session: Session, event: CommandEvent): void {
    if (event === 'login') {
      this.reporter.login(session);
      return;
    }
    this.counters.limit(event);
    // A refused PORT/EPRT still says what the middlebox did to its address.
    if (session.truth?.mode === 'active') this.classify(session, classifyActive(session.truth.said.host, session.peer.address, 'refused'), undefined);
  }

  /** Counts a data setup's class once, and logs it when it is a mismatch. */
  private classify(session: Session, c: DataAddressClass, dataPeer: Endpoint | undefined): void {
    const truth = session.truth;
    if (truth === undefined || truth.classified) return;
    truth.classified = true;
    this.counters.dataAddresses[c] += 1;
    if (!isMismatch(c)) return;
    const said = truth.mode === 'active' ? truth.said : truth.announced;
    this.mismatches.note(`data address mismatch: ${c}`, {
      session: session.sid,
      class: c,
      controlPeer: session.peer.address,
      said: showEndpoint(said),
      dataPeer: dataPeer === undefined ? 'none' : showEndpoint(dataPeer),
    });
  }
}

/**
 * The errnos of a DataFailed that are a connect that failed; the others
 * (ENOTCONN, EALREADY, ECONNABORTED, ECONNRESET: an ESTA/ESTP with no
 * connection, or a setup given up) say nothing of the address.
 */
const { ENOTCONN, EALREADY, ECONNABORTED, ECONNRESET, ECANCELED } = os.constants.errno;
const notConnectFailures = new Set([ENOTCONN, EALREADY, ECONNABORTED, ECONNRESET, ECANCELED]);
const isConnectFailure = (errno: number): boolean => errno > 0 && !notConnectFailures.has(errno);

/** Polls `done` every pollMs until it holds or `ms` have passed. */
async function until(done: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, pollMs));
}
