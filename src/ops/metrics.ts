// --metrics-port: Prometheus metrics over HTTP (prom-client), read from the
// server's counters when scraped. Node's default metrics come along, among
// them the main thread's event-loop lag and the process's open fds; the native
// workers' loop iterations and event batches come from the addon's stats().
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { NativeLoopStats } from '../engine/engine.js';
import type { ServerStats } from '../server.js';

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A counter whose value is read from the server's own count when scraped. */
function mirrored<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: (s: ServerStats) => Iterable<[Partial<Record<L, string>>, number]>,
  stats: () => ServerStats,
): void {
  new Counter<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read(stats())) this.inc(labels, value);
    },
  });
}

export function metricsRegistry(stats: () => ServerStats): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'muxftpd_clients',
    help: 'Clients connected now, per native worker thread',
    labelNames: ['worker'] as const,
    registers: [registry],
    collect() {
      stats().perWorker.forEach((n, i) => this.set({ worker: String(i) }, n));
    },
  });
  new Gauge({
    name: 'muxftpd_transfers_running',
    help: 'Data transfers running now',
    registers: [registry],
    collect() {
      this.set(stats().transfersRunning);
    },
  });
  new Gauge({
    name: 'muxftpd_password_checks',
    help: 'Password checks now: on a password thread (running) and waiting for one (waiting); see --auth-threads, --auth-queue',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const { running, waiting } = stats().passwordChecks;
      this.set({ state: 'running' }, running);
      this.set({ state: 'waiting' }, waiting);
    },
  });
  const entries = (r: Record<string, number>, label: string) => Object.entries(r).map(([k, v]) => [{ [label]: k }, v] as [Record<string, string>, number]);
  mirrored(registry, 'muxftpd_sessions_total', 'Sessions opened since start', [], (s) => [[{}, s.sessionsTotal]], stats);
  mirrored(registry, 'muxftpd_engine_loop_failures_total', 'Engine threads whose loop failed (each stops the server)', [], (s) => [[{}, s.loopFailures]], stats);
  mirrored(registry, 'muxftpd_accepted_total', 'Control connections accepted by the engine', [], (s) => [[{}, s.accepted]], stats);
  mirrored(registry, 'muxftpd_commands_total', 'Commands run, by verb', ['verb'], (s) => entries(s.commands, 'verb'), stats);
  mirrored(registry, 'muxftpd_transfers_total', 'Data transfers ended, by result', ['result'], (s) => entries(s.transfers, 'result'), stats);
  mirrored(registry, 'muxftpd_limits_total', 'Times a limit was hit, by limit', ['limit'], (s) => entries(s.limits, 'limit'), stats);
  mirrored(
    registry,
    'muxftpd_data_connections_total',
    'Data connections by address class: what PORT/EPRT said or PASV/EPSV announced against the peer that came or was reached (docs/middlebox.md)',
    ['class'],
    (s) => entries(s.dataAddresses, 'class'),
    stats,
  );
  mirrored(
    registry,
    'muxftpd_passive_late_total',
    'Connections to a shared passive port closed as late: from a host whose reservation of it had just ended (not an address class)',
    [],
    (s) => [[{}, s.passiveLate]],
    stats,
  );
  mirrored(
    registry,
    'muxftpd_bytes_total',
    'Data bytes moved, by direction (out: downloads and listings; in: uploads)',
    ['direction'],
    (s) => [
      [{ direction: 'out' }, s.bytesOut],
      [{ direction: 'in' }, s.bytesIn],
    ],
    stats,
  );
  const perWorker = (pick: (l: NativeLoopStats) => number) => (s: ServerStats) =>
    s.loops.map((l, i) => [{ worker: String(i) }, pick(l)] as [Record<'worker', string>, number]);
  mirrored(
    registry,
    'muxftpd_worker_loop_iterations_total',
    'Epoll loop iterations of each native worker thread (wake-ups for events, timeouts or signals)',
    ['worker'],
    perWorker((l) => l.iterations),
    stats,
  );
  mirrored(
    registry,
    'muxftpd_worker_event_batches_total',
    'Event batches each native worker posted to JS; mean batch size = muxftpd_worker_events_total / this',
    ['worker'],
    perWorker((l) => l.batches),
    stats,
  );
  mirrored(
    registry,
    'muxftpd_worker_events_total',
    'Events each native worker delivered to JS in its batches; mean batch size = this / muxftpd_worker_event_batches_total',
    ['worker'],
    perWorker((l) => l.events),
    stats,
  );
  return registry;
}

/**
 * Serves GET /metrics on host:port (0: any free port). Each scrape takes one
 * snapshot of the stats (over all the server processes of --processes),
 * which every metric then reads.
 */
export async function startMetrics(host: string, port: number, stats: () => Promise<ServerStats>): Promise<MetricsServer> {
  let snapshot: ServerStats | undefined;
  const registry = metricsRegistry(() => {
    if (snapshot === undefined) throw new Error('no stats snapshot');
    return snapshot;
  });
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found; try /metrics\n');
      return;
    }
    stats()
      .then((s) => {
        snapshot = s;
        return registry.metrics();
      })
      .then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(e)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
