// Config → the engine's native configuration.
import type { EngineConfig } from '../engine/engine.js';
import { CopyMode } from '../engine/native.js';
import type { Config } from './settings.js';

/** Unsent reply bytes after which a client that stopped reading is closed. */
const maxOutputBytes = 1024 * 1024;
const busyReply = '421 Too many connections; try again later.\r\n';

export function engineConfig(config: Readonly<Config>): EngineConfig {
  return {
    host: config.host,
    port: config.port,
    root: config.root,
    threads: config.threads,
    clientsPerThread: config.clientsPerThread,
    maxClients: config.maxClients,
    blockSize: config.blockSize,
    pasvMin: config.pasvPorts?.min ?? 0,
    pasvMax: config.pasvPorts?.max ?? 0,
    copyMode: config.copy === 'sendfile' ? CopyMode.Sendfile : CopyMode.ReadWrite,
    maxLine: config.maxLine,
    maxOutput: maxOutputBytes,
    busyReply,
    dataTimeoutMs: config.dataTimeout * 1000,
    closeTimeoutMs: config.closeTimeout * 1000,
    maxRate: config.maxRate,
    maxRatePerClient: config.maxRatePerClient,
    writeBehind: config.uploadWriteBehind,
  };
}
