// --processes N: this process (the primary) starts N server processes that
// share the control port (SO_REUSEPORT: the kernel spreads new connections
// over their listeners), each with its own acceptor, workers and command
// thread: the nginx model, shared nothing on the hot path. The primary keeps
// what must be one: the client ledger behind --max-clients and --max-per-ip
// (shared memory, docs/scaling.md), the failed logins per address (passed on
// to every process), one metrics endpoint and one stats() summing them all,
// and the server's life: a drain or close reaches all of them, and one that
// dies stops the whole server with a non-zero exit rather than serve part.
import { loadAccounts } from '../auth/accounts.js';
import { loadCommandModule } from '../commands/module.js';
import { buildRegistry } from '../commands/registry.js';
import { resolveConfig } from '../config/resolve.js';
import type { Config } from '../config/settings.js';
import { StartError } from '../errors.js';
import type { ServerHandle } from '../handle.js';
import { createLogger, type Logger, resolveLogFormat } from '../log.js';
import { type MetricsServer, startMetrics } from '../ops/metrics.js';
import type { ServerStats } from '../server.js';
import type { ToPrimary } from './messages.js';
import { mergeStats } from './merge-stats.js';
import { describe, type Ended, ServerProcess } from './server-process.js';
import { pasvSlices } from './shares.js';
import { clientLedger } from './ledger.js';

export interface PrimaryOptions {
  /** A command module specifier, loaded by every server process. */
  commands: string | undefined;
  log: Logger | undefined;
}

/** Beyond --drain-timeout, what the processes' goodbyes and exits may take. */
const exitGraceMs = 5000;

export async function startProcesses(loaded: Readonly<Config>, opts: PrimaryOptions): Promise<ServerHandle> {
  // Resolved once, here: every process serves the same root and announces the same address.
  const config = await resolveConfig(loaded);
  const log = opts.log ?? createLogger(config.logLevel, undefined, resolveLogFormat(config.logFormat, process.stderr.isTTY === true));
  // What a process would refuse is refused here, once, before any starts.
  const slices = pasvSlices(config.pasvPorts, config.processes);
  const fromModule = config.commandModule === null ? {} : await loadCommandModule(config.commandModule);
  buildRegistry({ ...fromModule, ...(opts.commands === undefined ? {} : await loadCommandModule(opts.commands)) });
  await loadAccounts(config.users, config.root);

  const ledger = clientLedger(config.maxClients);
  const processes: ServerProcess[] = [];
  let stopping: Promise<void> | undefined;
  let fatal = false;
  const onMessage = (from: ServerProcess, m: ToPrimary) => {
    if (m.type === 'log') log[m.level](m.message, m.fields);
    if (m.type === 'failure') for (const p of processes) if (p !== from) p.send(m);
  };
  const stopAll = (how: 'drain' | 'close', timeoutMs: number): Promise<void> =>
    (stopping ??= (async () => {
      for (const p of processes) p.send(how === 'drain' ? { type: 'drain', timeoutMs } : { type: 'close' });
      await Promise.all(processes.map((p) => p.endWithin(timeoutMs + exitGraceMs)));
      await metrics?.close();
      ledger.close();
      log.flush();
    })());
  const watch = (p: ServerProcess) => {
    void p.ended.then((e: Ended) => {
      if (stopping !== undefined) return;
      fatal = true;
      log.error(`server process ${p.index} (pid ${p.pid ?? '?'}) ended (${describe(e)}); the server stops rather than serve part of its clients`);
      process.exitCode = 1;
      void stopAll('close', 0);
    });
  };
  const startOne = async (index: number, port: number, implicitTlsPort: number | null) => {
    const p = new ServerProcess(index, ledger.fd, onMessage);
    processes.push(p);
    const bound = await p.start({
      type: 'start',
      config: { ...config, port, implicitTlsPort, pasvPorts: slices[index] ?? null, metricsPort: null },
      commands: opts.commands,
      forwardLog: opts.log !== undefined,
    });
    watch(p);
    return bound;
  };

  let address: ServerHandle['address'];
  let metrics: MetricsServer | undefined;
  try {
    // The first one binds (and resolves port 0); the others join its ports.
    address = await startOne(0, config.port, config.implicitTlsPort);
    const implicit = address.implicitTlsPort ?? null;
    await Promise.all(Array.from({ length: config.processes - 1 }, (_, i) => startOne(i + 1, address.port, implicit)));
  } catch (e) {
    await stopAll('close', 0);
    throw e;
  }
  const stats = async (): Promise<ServerStats> => {
    const all = (await Promise.all(processes.map((p) => p.stats()))).filter((s) => s !== undefined);
    const sum = mergeStats(all);
    if (sum === undefined) throw new StartError('no server process is running');
    return sum;
  };
  if (config.metricsPort !== null) {
    try {
      metrics = await startMetrics(config.host, config.metricsPort, stats);
    } catch (e) {
      await stopAll('close', 0);
      throw new StartError(`--metrics-port ${config.metricsPort}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  return {
    address,
    config,
    metrics: metrics === undefined ? undefined : { port: metrics.port },
    close: () => stopAll('close', 0),
    drain: (timeoutMs = config.drainTimeout * 1000) => stopAll('drain', timeoutMs),
    stats,
    reopenLogs: () => {
      if (stopping !== undefined || fatal) return;
      for (const p of processes) p.send({ type: 'reopen' });
    },
  };
}
