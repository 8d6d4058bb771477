// The package API: startServer(), and the types needed to write commands.
import { startProcesses } from './cluster/primary.js';
import { loadConfig } from './config/load.js';
import { ConfigError } from './errors.js';
import type { ServerHandle, ServerOptions, StartOptions } from './handle.js';
import type { ServerStats } from './server.js';
import { startInProcess } from './start.js';

export type { ServerHandle, ServerOptions, StartOptions };
export type { ServerStats };

/**
 * Starts a server. Options are the CLI's settings, validated through the same
 * table (bad ones reject with a ConfigError); a failing engine start (bind,
 * threads) rejects with a StartError. With --processes above 1 this process
 * starts and supervises the server processes (src/cluster/primary.ts).
 */
export async function startServer(opts: StartOptions = {}): Promise<ServerHandle> {
  const { commands, log, ...options } = opts;
  const config = await loadConfig({ options });
  if (config.processes === 1) return startInProcess(config, { commands, log });
  if (commands !== undefined && typeof commands !== 'string') {
    throw new ConfigError(
      'MUXFTPD_ERR_BAD_COMMANDS',
      'a command table given as an object stays in this process: with --processes above 1, give its module specifier (each server process loads it)',
    );
  }
  return startProcesses(config, { commands, log });
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
