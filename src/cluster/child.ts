// A server process of --processes: the primary forks it, sends it a
// StartMessage, and from then on it serves its share of the clients (the
// kernel spreads connections over the processes' listeners, SO_REUSEPORT)
// and obeys the primary. It ignores the terminal's signals (a Ctrl-C reaches
// the whole process group): the primary drains it. Should the primary vanish,
// it closes and exits.
import type { FailureExchange } from '../auth/failed-logins.js';
import { ConfigError } from '../errors.js';
import type { ServerHandle } from '../handle.js';
import { createLogger, type Logger, type LogLevel, resolveLogFormat } from '../log.js';
import { startInProcess } from '../start.js';
import { ledgerFdInChild, type StartMessage, type ToChild, type ToPrimary } from './messages.js';

const send = (message: ToPrimary): void => {
  process.send?.(message);
};

/** A logger whose lines the primary writes: one writer for all the processes' lines. */
function forwardingLogger(level: LogLevel): Logger {
  const rank = (l: LogLevel) => ['error', 'warn', 'info', 'debug'].indexOf(l);
  const at = (l: LogLevel) => (message: string, fields?: Parameters<Logger['info']>[1]) => {
    if (rank(l) <= rank(level)) send({ type: 'log', level: l, message, fields });
  };
  return { level, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug'), flush: () => undefined };
}

function failureExchange(): FailureExchange & { deliver(address: string, at: number): void } {
  let record: ((address: string, at: number) => void) | undefined;
  return {
    publish: (address, at) => send({ type: 'failure', address, at }),
    onFailure: (r) => {
      record = r;
    },
    deliver: (address, at) => record?.(address, at),
  };
}

/** What the primary asked before the server was up: done once it is. */
let early: ToChild | undefined;
let server: ServerHandle | undefined;
const failures = failureExchange();

function obey(m: ToChild, running: ServerHandle): void {
  const stop = (how: Promise<void>) => {
    void how.finally(() => process.disconnect());
  };
  switch (m.type) {
    case 'stats':
      void running.stats().then((stats) => send({ type: 'stats', id: m.id, stats }));
      break;
    case 'drain':
      stop(running.drain(m.timeoutMs));
      break;
    case 'close':
      stop(running.close());
      break;
    case 'reopen':
      running.reopenLogs();
      break;
    case 'failure':
      failures.deliver(m.address, m.at);
      break;
    case 'start':
      break;
  }
}

async function serve(start: StartMessage): Promise<void> {
  const { config } = start;
  const log = start.forwardLog ? forwardingLogger(config.logLevel) : createLogger(config.logLevel, undefined, resolveLogFormat(config.logFormat, process.stderr.isTTY === true), true);
  try {
    server = await startInProcess(config, { commands: start.commands, log, share: { ledgerFd: ledgerFdInChild, failures }, onStopped: () => process.disconnect() });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    send({ type: 'startFailed', kind: e instanceof ConfigError ? 'config' : 'start', code: e instanceof ConfigError ? e.code : undefined, message });
    process.disconnect();
    return;
  }
  const running = server;
  process.on('disconnect', () => void running.close());
  send({ type: 'ready', address: running.address });
  if (early !== undefined) obey(early, running);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => undefined);
process.on('message', (m: ToChild) => {
  if (m.type === 'start') void serve(m);
  else if (server !== undefined) obey(m, server);
  else if (m.type === 'close' || m.type === 'drain') early = m;
  else if (m.type === 'failure') failures.deliver(m.address, m.at);
});
