// The shape of a command-table row and of what its handler gets. Custom
// commands passed to startServer({ commands }) are rows of this same shape.
import type { Accounts } from '../auth/accounts.js';
import type { LoginChecks } from '../auth/logins.js';
import type { Config } from '../config/settings.js';
import type { Engine, TransferOptions, TransferResult } from '../engine/engine.js';
import type { Logger } from '../log.js';
import type { SessionFiles } from '../vfs/files.js';
import type { Reply } from '../protocol/replies.js';
import type { Session } from '../session/session.js';

/** Returns the text of the 501 reply when the argument is bad, else undefined. */
export type ArgValidator = (arg: string) => string | undefined;

/** 'none': no argument allowed; 'required'; 'optional'; or a validator (which also sees ''). */
export type ArgRule = 'none' | 'required' | 'optional' | ArgValidator;

/** Returns the refusal (503 by default, or e.g. 425) when the session is not ready, else undefined. */
export type StateCheck = (session: Session) => Reply | undefined;

/**
 * A FEAT line (RFC 2389): fixed, or made from the session at each FEAT (MLST's
 * marks the facts it selected); undefined lists none (AUTH's, on a server without TLS).
 */
export type Feature = string | ((session: Session) => string | undefined);

/** Returns the final reply, or throws FtpError; any other throw becomes 451. */
export type Handler = (ctx: CommandContext, arg: string) => Reply | Promise<Reply>;

export interface CommandSpec {
  /** The client must be logged in (else 530). */
  auth: boolean;
  arg: ArgRule;
  state?: StateCheck;
  /** 'write': the command changes the tree, refused with 550 unless the session is writable. */
  perm?: 'write';
  /** May run while a transfer is running (ABOR, STAT, NOOP); other commands (QUIT too) wait for its end. */
  duringTransfer?: boolean;
  /**
   * Sets up or runs a data transfer (PASV…, RETR, LIST…): while the server
   * drains, it is answered 421 and the connection closed (RFC 959 4.2).
   */
  data?: boolean;
  /**
   * A pending RNFR survives this command (RNTO's row). Any other command, an
   * unknown one too, forgets it first: RNTO must come right after RNFR
   * (RFC 959 4.1.3).
   */
  keepsRenameFrom?: boolean;
  /** The line FEAT lists for this command (RFC 2389), if any. */
  feat?: Feature;
  /** One line for HELP: syntax and purpose. */
  help: string;
  handler: Handler;
}

/** A command table: upper-case verb → row. In an override table, null removes a verb. */
export type CommandTable = Readonly<Record<string, CommandSpec>>;
export type CommandOverrides = Readonly<Record<string, CommandSpec | null>>;

/** The merged, validated table a server runs. */
export interface CommandRegistry {
  get(verb: string): CommandSpec | undefined;
  /** Every verb, sorted. */
  readonly verbs: readonly string[];
  /** The FEAT lines of every row, made for `session`: sorted, without duplicates. */
  features(session: Session): string[];
}

/**
 * What a handler tells the server beside its reply, for the log and the
 * counters (ctx.report): 'login', the session has just logged in; 'bounce',
 * a PORT/EPRT target was refused as an FTP bounce, another host or a
 * privileged port (RFC 2577). (The failed-login caps are counted where they
 * are decided, auth/logins.ts.)
 */
export type CommandEvent = 'login' | 'bounce';

/** The engine actions a handler may call (the network is touched only through these). */
export type EngineActions = Pick<
  Engine,
  | 'reply'
  | 'listenPassive'
  | 'connectActive'
  | 'openData'
  | 'sendFile'
  | 'sendBuffer'
  | 'recvFile'
  | 'abort'
  | 'close'
  | 'fileOp'
  | 'startTls'
  | 'clearControl'
  | 'dataProtection'
>;

/** What a transfer's engine call must carry (as TransferOptions) for its connection to follow it. */
export type TransferHooks = Required<Pick<TransferOptions, 'started' | 'ended'>>;

export interface CommandContext {
  readonly session: Session;
  /** The server's configuration; `root` is the real path of the served root. */
  readonly config: Readonly<Config>;
  /** The accounts of --users, by name (empty without it). */
  readonly accounts: Accounts;
  /** Password checks on the server's password threads, with the failed-login caps. */
  readonly logins: LoginChecks;
  /** The connection is closed (by a reply, the client or the server): nothing more is sent. */
  readonly isClosed: boolean;
  readonly engine: EngineActions;
  /**
   * The session's file system: stat, list, mkdir, rmdir, unlink, rename,
   * each done by the kernel beneath the session's home (or the served root).
   * Custom commands use this, never a path of their own.
   */
  readonly files: SessionFiles;
  readonly commands: CommandRegistry;
  readonly log: Logger;
  /** The server is shutting down gracefully: running transfers may finish, no new one starts. */
  readonly draining: boolean;
  /** Sends a reply now, ahead of the handler's final one (e.g. 150 before a transfer). */
  send(reply: Reply): void;
  /** Tells the server what the handler did, for its log and counters (the reply tells the client). */
  report(event: CommandEvent): void;
  /**
   * Runs a data transfer: `start` starts it (an engine action) with `hooks`,
   * the TransferOptions `started` and `ended` to pass on; `done` gets its
   * result, from `ended` (at once, with Aborted, on a closed connection,
   * without calling `start`). From when the file is open until its end,
   * commands marked duringTransfer are served; the others wait for its end.
   */
  transfer(start: (hooks: TransferHooks) => unknown, done: (result: TransferResult) => void): void;
  /** Resolves once the command owning the running transfer has sent its final reply (ABOR waits on this). */
  afterTransfer(): Promise<void>;
}
