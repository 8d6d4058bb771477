// Config → the engine's native configuration: the one mapping from settings
// to native/engine/engine.h's EngineConfig. No defaults here: every value
// comes from the settings table (or, for reply texts, from the TS side that
// owns them).
import type { NativeConfig, NativeTlsConfig } from '../engine/native.js';
import { CopyMode } from '../engine/native.js';
import { limitReplies } from '../session/limits.js';
import type { Config } from './settings.js';

/**
 * A server process's part of --processes: the shared port, and the client
 * ledger they count --max-clients and --max-per-ip in together (without it,
 * the engine makes a ledger of its own).
 */
export interface EngineShare {
  reusePort: boolean;
  ledgerFd: number;
}

/**
 * `tls`: FTPS, resolved by the caller (the PEM read from --tls-cert and
 * --tls-key, or made for --tls-cert auto); absent: no TLS.
 */
export function engineConfig(config: Readonly<Config>, share?: EngineShare, tls?: NativeTlsConfig): NativeConfig {
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
    reusePort: share?.reusePort ?? false,
    maxPerIp: config.maxPerIp,
    perIpReply: limitReplies.maxPerIp,
    ledgerFd: share?.ledgerFd ?? -1,
    tls: tls ?? null,
  };
}
