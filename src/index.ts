// The package API: startServer(), and the types needed to write commands.
import { realpath } from 'node:fs/promises';
import net from 'node:net';
import { loadAccounts } from './auth/accounts.js';
import { loadCommandModule } from './commands/module.js';
import { buildRegistry } from './commands/registry.js';
import type { CommandOverrides } from './commands/types.js';
import { engineConfig } from './config/engine-config.js';
import { loadConfig } from './config/load.js';
import { resolvePasvAddress } from './config/pasv-address.js';
import type { Config } from './config/settings.js';
import { Engine } from './engine/engine.js';
import { StartError } from './errors.js';
import { createLogger, type Logger, resolveLogFormat } from './log.js';
import { type MetricsServer, startMetrics } from './ops/metrics.js';
import { TransferLog } from './ops/xferlog.js';
import { Server, type ServerStats } from './server.js';

/** Each setting typed, or in its CLI string form ('64k', '50000-50999'): the same validators take both. */
export type ServerOptions = { [K in keyof Config]: Config[K] | string };

export interface StartOptions extends Partial<ServerOptions> {
  /**
   * Extra or replacement command rows (same shape as the built-in table;
   * null removes a verb), or a module specifier whose default export is such
   * a table (as --commands takes it). Applied after --commands.
   */
  commands?: CommandOverrides | string;
  /** Where log lines go (default: pino on stderr at logLevel). */
  log?: Logger;
}

export type { ServerStats };

export interface ServerHandle {
  /** Where the control listener is bound (the port resolved when 0 was asked). */
  readonly address: { address: string; port: number; family: 'IPv4' | 'IPv6' };
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
  /** The engine's numbers and the server's counters (sessions, commands, bytes, transfers, limits hit). */
  stats(): ServerStats;
  /**
   * Opens the log files again by their names (the CLI does it on SIGHUP, for
   * logrotate): --xferlog. Log lines go to stderr, which is not reopened.
   */
  reopenLogs(): void;
}

/**
 * Starts a server. Options are the CLI's settings, validated through the same
 * table (bad ones reject with a ConfigError); a failing engine start (bind,
 * threads) rejects with a StartError.
 */
export async function startServer(opts: StartOptions = {}): Promise<ServerHandle> {
  const { commands, log: givenLog, ...options } = opts;
  const loaded = await loadConfig({ options });
  const fromModule = loaded.commandModule === null ? {} : await loadCommandModule(loaded.commandModule);
  const given = typeof commands === 'string' ? await loadCommandModule(commands) : (commands ?? {});
  const registry = buildRegistry({ ...fromModule, ...given });
  const root = await realpath(loaded.root);
  const config: Readonly<Config> = { ...loaded, root, pasvAddress: await resolvePasvAddress(loaded.pasvAddress) };
  const accounts = await loadAccounts(config.users, root);
  const log = givenLog ?? createLogger(config.logLevel, undefined, resolveLogFormat(config.logFormat, process.stderr.isTTY === true));
  const xferlog = config.xferlog === null ? undefined : new TransferLog(config.xferlog, (e) => log.error(`--xferlog: ${e.message}`));
  let server: Server;
  let metrics: MetricsServer | undefined;
  let handle: ServerHandle | undefined;
  // An engine thread whose loop failed: stop the whole server, and let the
  // process end non-zero (the CLI has nothing else keeping it up).
  const onFatal = () => {
    process.exitCode = 1;
    void handle?.close();
  };
  try {
    server = new Server({ config, accounts, commands: registry, log, xferlog, onFatal }, (handler) => new Engine(engineConfig(config), handler));
  } catch (e) {
    await xferlog?.close();
    // The addon's messages already name the address and the failing step.
    const detail = e instanceof Error ? e.message.replace(/^muxftpd:\s*/, '') : String(e);
    throw new StartError(detail, { cause: e });
  }
  const stats = () => server.stats();
  if (config.metricsPort !== null) {
    try {
      metrics = await startMetrics(config.host, config.metricsPort, stats);
    } catch (e) {
      await server.close();
      await xferlog?.close();
      throw new StartError(`--metrics-port ${config.metricsPort}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  const bound = server.engine.address();
  let closing: Promise<void> | undefined;
  const finish = async (stop: Promise<void>) => {
    await stop;
    await metrics?.close();
    await xferlog?.close();
    log.flush();
  };
  handle = {
    address: { address: bound.address, port: bound.port, family: net.isIPv6(bound.address) ? 'IPv6' : 'IPv4' },
    config,
    metrics: metrics === undefined ? undefined : { port: metrics.port },
    close: () => (closing ??= finish(server.close())),
    drain: (timeoutMs = config.drainTimeout * 1000) => (closing ??= finish(server.drain(timeoutMs))),
    stats,
    reopenLogs: () => {
      if (closing !== undefined) return;
      xferlog?.reopen();
      log.info('log files reopened');
    },
  };
  return handle;
}

export { commands, needsDataSetup } from './commands/table.js';
export { runTransfer, type StartTransfer } from './commands/handlers/transfer.js';
export type {
  ArgRule,
  ArgValidator,
  CommandContext,
  CommandEvent,
  CommandOverrides,
  CommandRegistry,
  CommandSpec,
  CommandTable,
  EngineActions,
  Feature,
  Handler,
  StateCheck,
} from './commands/types.js';
export type { Config, CopyModeName, PortRange } from './config/settings.js';
export { TransferError, type Endpoint, type SessionId, type TransferOptions, type TransferResult } from './engine/engine.js';
export { ConfigError, FtpError, StartError } from './errors.js';
export type { Logger, LogLevel } from './log.js';
export { Code, multiline, reply, type Reply, type ReplyCode } from './protocol/replies.js';
export type { DataSetup, Session, TransferType } from './session/session.js';
export { joinVirtual } from './vfs/paths.js';
export type { Listing, SessionFiles } from './vfs/files.js';
export { type FileStat, isDirectory, isRegular } from './vfs/stat-records.js';
