// The live view of `npm start` on a terminal: one line, redrawn every
// second, with clients (in all and per worker), transfers running, MB/s out
// and in, and errors. Off a terminal nothing is written.
import type { ServerStats } from '../server.js';

export interface StatusLine {
  stop(): void;
}

const mb = (bytes: number, seconds: number) => (bytes / seconds / 1e6).toFixed(1);

export function statusText(now: ServerStats, before: ServerStats, seconds: number): string {
  const { ok, aborted, ...failed } = now.transfers;
  const errors = Object.values(failed).reduce((a, b) => a + b, 0);
  const limits = Object.values(now.limits).reduce((a, b) => a + b, 0);
  return [
    `clients ${now.sessions} [${now.perWorker.join(' ')}]`,
    `transfers ${now.transfersRunning} (${ok} done)`,
    `out ${mb(now.bytesOut - before.bytesOut, seconds)} MB/s`,
    `in ${mb(now.bytesIn - before.bytesIn, seconds)} MB/s`,
    `errors ${errors}`,
    `limits hit ${limits}`,
  ].join(' · ');
}

/** Redraws the status line on `tty` every `everyMs`; bytes count when a transfer ends. */
export function startStatusLine(stats: () => Promise<ServerStats>, tty: NodeJS.WriteStream, everyMs = 1000): StatusLine {
  let before: ServerStats | undefined;
  let at = performance.now();
  let stopped = false;
  const draw = async () => {
    const now = await stats();
    const t = performance.now();
    if (stopped) return;
    if (before !== undefined) tty.write(`\r\x1b[K${statusText(now, before, (t - at) / 1000)}`.slice(0, (tty.columns || 200) + 4));
    before = now;
    at = t;
  };
  // A round that fails (the server stopping) draws nothing; the next one tries again.
  const tick = () => void draw().catch(() => undefined);
  tick();
  const timer = setInterval(tick, everyMs).unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
      tty.write('\r\x1b[K');
    },
  };
}
