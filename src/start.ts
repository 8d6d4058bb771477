// One server in this process: the engine, its Server, --metrics-port and
// --xferlog. startServer() runs it for --processes 1; each server process of
// --processes N runs it too, with its share of the whole.
import net from 'node:net';
import type { FailureExchange } from './auth/failed-logins.js';
import { loadAccounts } from './auth/accounts.js';
import { loadCommandModule } from './commands/module.js';
import { buildRegistry } from './commands/registry.js';
import type { CommandOverrides } from './commands/types.js';
import { engineConfig } from './config/engine-config.js';
import { resolveConfig } from './config/resolve.js';
import type { Config } from './config/settings.js';
import { Engine } from './engine/engine.js';
import { nativeTlsOf } from './config/tls-material.js';
import { StartError } from './errors.js';
import type { ServerHandle } from './handle.js';
import { createLogger, type Logger, resolveLogFormat } from './log.js';
import { type MetricsServer, startMetrics } from './ops/metrics.js';
import { TransferLog } from './ops/xferlog.js';
import { Server } from './server.js';

/** What a server process of --processes shares with the others. */
export interface ProcessShare {
  /** The client ledger's fd (--max-clients and --max-per-ip over all the processes). */
  ledgerFd: number;
  failures: FailureExchange;
}

export interface InProcessOptions {
  commands?: CommandOverrides | string;
  log?: Logger;
  share?: ProcessShare;
  /** After a fatal engine failure has closed the server (the CLI's process then ends non-zero). */
  onStopped?: () => void;
}

export async function startInProcess(loaded: Readonly<Config>, opts: InProcessOptions = {}): Promise<ServerHandle> {
  const { commands, share } = opts;
  const fromModule = loaded.commandModule === null ? {} : await loadCommandModule(loaded.commandModule);
  const given = typeof commands === 'string' ? await loadCommandModule(commands) : (commands ?? {});
  const registry = buildRegistry({ ...fromModule, ...given });
  const config = await resolveConfig(loaded);
  const accounts = await loadAccounts(config.users, config.root);
  const log = opts.log ?? createLogger(config.logLevel, undefined, resolveLogFormat(config.logFormat, process.stderr.isTTY === true));
  const xferlog = config.xferlog === null ? undefined : new TransferLog(config.xferlog, (e) => log.error(`--xferlog: ${e.message}`));
  let server: Server;
  let metrics: MetricsServer | undefined;
  let handle: ServerHandle | undefined;
  // An engine thread whose loop failed: stop the whole server, and let the
  // process end non-zero (the CLI has nothing else keeping it up).
  const onFatal = () => {
    process.exitCode = 1;
    void handle?.close().finally(() => opts.onStopped?.());
  };
  const native = engineConfig(config, share === undefined ? undefined : { reusePort: true, ledgerFd: share.ledgerFd }, nativeTlsOf(config));
  let engine: Engine | undefined;
  try {
    server = new Server(
      { config, accounts, commands: registry, log, xferlog, onFatal, failures: share?.failures },
      (handler) => (engine = new Engine(native, handler)),
    );
  } catch (e) {
    await xferlog?.close();
    // The addon's messages already name the address and the failing step.
    const detail = e instanceof Error ? e.message.replace(/^muxftpd:\s*/, '') : String(e);
    throw new StartError(detail, { cause: e });
  }
  const stats = () => Promise.resolve(server.stats());
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
  const implicitTlsPort = engine?.implicitTlsAddress()?.port;
  let closing: Promise<void> | undefined;
  const finish = async (stop: Promise<void>) => {
    await stop;
    await metrics?.close();
    await xferlog?.close();
    log.flush();
  };
  handle = {
    address: { address: bound.address, port: bound.port, family: net.isIPv6(bound.address) ? 'IPv6' : 'IPv4', implicitTlsPort },
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
