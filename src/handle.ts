// What startServer() gives back, whether the server is this process or the
// server processes of --processes.
import type { CommandOverrides } from './commands/types.js';
import type { Config } from './config/settings.js';
import type { Logger } from './log.js';
import type { ServerStats } from './server.js';

/** Each setting typed, or in its CLI string form ('64k', '50000-50999'): the same validators take both. */
export type ServerOptions = { [K in keyof Config]: Config[K] | string };

export interface StartOptions extends Partial<ServerOptions> {
  /**
   * Extra or replacement command rows (same shape as the built-in table;
   * null removes a verb), or a module specifier whose default export is such
   * a table (as --commands takes it). Applied after --commands. With
   * --processes above 1 only a specifier will do: each process loads it.
   */
  commands?: CommandOverrides | string;
  /** Where log lines go (default: pino on stderr at logLevel). */
  log?: Logger;
}

export interface ServerHandle {
  /**
   * Where the control listener is bound (the port resolved when 0 was asked),
   * and the implicit FTPS listener's port (--implicit-tls-port), if any.
   */
  readonly address: { address: string; port: number; family: 'IPv4' | 'IPv6'; implicitTlsPort?: number | undefined };
  /** The configuration in force (root is the served root's real path). */
  readonly config: Readonly<Config>;
  /** The --metrics-port endpoint, when enabled (its port resolved when 0 was asked). */
  readonly metrics: { port: number } | undefined;
  /** Stops accepting, closes every session, joins the engine's threads. Idempotent. */
  close(): Promise<void>;
  /**
   * Graceful shutdown: stops accepting at once and refuses new transfers (a
   * data command gets 421 and its session is closed), lets running transfers
   * finish for up to `timeoutMs` (default: --drain-timeout), aborts those
   * still running (426), sends every session 421, then closes as close() does.
   */
  drain(timeoutMs?: number): Promise<void>;
  /**
   * The engine's numbers and the server's counters (sessions, commands,
   * bytes, transfers, limits hit), summed over the server processes.
   */
  stats(): Promise<ServerStats>;
  /**
   * Opens the log files again by their names (the CLI does it on SIGHUP, for
   * logrotate): --xferlog. Log lines go to stderr, which is not reopened.
   */
  reopenLogs(): void;
}
