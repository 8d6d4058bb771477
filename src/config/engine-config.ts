// Config → the engine's native configuration: the one mapping from settings
// to native/engine/engine.h's EngineConfig. No defaults here: every value
// comes from the settings table (or, for reply texts, from the TS side that
// owns them).
import type { NativeConfig } from '../engine/native.js';
import { CopyMode } from '../engine/native.js';
import { limitReplies } from '../session/limits.js';
import type { Config } from './settings.js';

/** `ledgerFd`: a client ledger shared with other server processes (NativeConfig.ledgerFd), or -1. */
export function engineConfig(config: Readonly<Config>, ledgerFd = -1): NativeConfig {
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
    maxOutput: config.maxOutput,
    dataTimeoutMs: config.dataTimeout * 1000,
    closeTimeoutMs: config.closeTimeout * 1000,
    maxRate: config.maxRate,
    maxRatePerClient: config.maxRatePerClient,
    writeBehind: config.uploadWriteBehind,
    busyReply: limitReplies.maxClients,
    maxPerIp: config.maxPerIp,
    perIpReply: limitReplies.maxPerIp,
    ledgerFd,
  };
}
