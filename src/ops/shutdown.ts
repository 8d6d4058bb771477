// Signals of a running CLI server. SIGTERM (and a first SIGINT) drain:
// stop accepting and starting transfers, let running transfers finish up to
// --drain-timeout, answer every client (426 for a transfer cut, 421), close,
// exit 0. A second signal exits at once. SIGHUP reopens the log files
// (logrotate's postrotate) and nothing else: its default action, ending the
// process, would cut every transfer.
import type { ServerHandle } from '../index.js';

/**
 * Installed before the server starts (a signal during a start of several
 * processes drains them once they are up); `server` is that start.
 */
export function onShutdownSignals(server: Promise<ServerHandle>, beforeExit: () => void): void {
  let draining = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (draining) {
      beforeExit();
      process.exit(signal === 'SIGINT' ? 130 : 1);
    }
    draining = true;
    server.then((s) => s.drain()).then(
      () => {
        beforeExit();
        process.exit(0);
      },
      (e: unknown) => {
        beforeExit();
        process.stderr.write(`muxftpd: stopping failed: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

export function onReopenSignal(server: ServerHandle): void {
  process.on('SIGHUP', () => server.reopenLogs());
}
