// The package API: startServer(), and the types needed to write commands.
import { realpath } from 'node:fs/promises';
import net from 'node:net';
import { buildRegistry } from './commands/registry.js';
import type { CommandOverrides } from './commands/types.js';
import { engineConfig } from './config/engine-config.js';
import { loadConfig } from './config/load.js';
import type { Config } from './config/settings.js';
import { Engine } from './engine/engine.js';
import type { NativeStats } from './engine/native.js';
import { StartError } from './errors.js';
import { createLogger } from './log.js';
import { Server } from './server.js';

/** Each setting typed, or in its CLI string form ('64k', '50000-50999'): the same validators take both. */
export type ServerOptions = { [K in keyof Config]: Config[K] | string };

export interface StartOptions extends Partial<ServerOptions> {
  /** Extra or replacement command rows (same shape as the built-in table); null removes a verb. */
  commands?: CommandOverrides;
}

export type ServerStats = NativeStats;

export interface ServerHandle {
  /** Where the control listener is bound (the port resolved when 0 was asked). */
  readonly address: { address: string; port: number; family: 'IPv4' | 'IPv6' };
  /** The configuration in force (root is the served root's real path). */
  readonly config: Readonly<Config>;
  /** Stops accepting, closes every session, joins the engine's threads. Idempotent. */
  close(): Promise<void>;
  stats(): ServerStats;
}

/**
 * Starts a server. Options are the CLI's settings, validated through the same
 * table (bad ones reject with a ConfigError); a failing engine start (bind,
 * threads) rejects with a StartError.
 */
export async function startServer(opts: StartOptions = {}): Promise<ServerHandle> {
  const { commands, ...options } = opts;
  const registry = buildRegistry(commands);
  const loaded = await loadConfig({ options });
  const config: Readonly<Config> = { ...loaded, root: await realpath(loaded.root) };
  const log = createLogger(config.logLevel);
  let server: Server;
  try {
    server = new Server({ config, commands: registry, log }, (handler) => new Engine(engineConfig(config), handler));
  } catch (e) {
    // The addon's messages already name the address and the failing step.
    const detail = e instanceof Error ? e.message.replace(/^muxftpd:\s*/, '') : String(e);
    throw new StartError(detail, { cause: e });
  }
  const bound = server.engine.address();
  let closing: Promise<void> | undefined;
  return {
    address: { address: bound.address, port: bound.port, family: net.isIPv6(bound.address) ? 'IPv6' : 'IPv4' },
    config,
    close: () => (closing ??= server.close()),
    stats: () => server.engine.stats(),
  };
}

export { commands } from './commands/table.js';
export type {
  ArgRule,
  ArgValidator,
  CommandContext,
  CommandOverrides,
  CommandRegistry,
  CommandSpec,
  CommandTable,
  EngineActions,
  Handler,
  StateCheck,
} from './commands/types.js';
export type { Config, CopyModeName, PortRange } from './config/settings.js';
export { TransferError, type Endpoint, type SessionId, type TransferResult } from './engine/engine.js';
export { ConfigError, FtpError, StartError } from './errors.js';
export type { Logger, LogLevel } from './log.js';
export { Code, multiline, reply, type Reply, type ReplyCode } from './protocol/replies.js';
export type { DataSetup, Session, TransferType } from './session/session.js';
export { resolvePath, resolveFile, type ResolvedPath } from './vfs/paths.js';
