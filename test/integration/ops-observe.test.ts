// What an operator sees of a download: the structured log lines (session
// start, login, transfer with path/bytes/duration/rate, end), the xferlog
// line, and the Prometheus counters at --metrics-port.
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { eventually, FtpControl, retrieve } from './helpers/clients.js';
import { inProcess, resourceCounts, useServer } from './helpers/server.js';

const lines: Record<string, unknown>[] = [];
const log = createLogger('info', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
const xferlog = path.join(process.env.TMPDIR ?? '/tmp', `muxftpd-xferlog-${process.pid}.log`);
// In this process (inProcess): the thread names are read from /proc/self (processes.test.ts covers --processes 2).
const srv = useServer({ ...inProcess, log, logLevel: 'info', metricsPort: 0, xferlog });

afterAll(() => rm(xferlog, { force: true }));

const byMsg = (msg: string) => lines.filter((l) => l.msg === msg);

describe('logs, xferlog and metrics after a download', () => {
  it('logs the session, the login, the transfer and the end', async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    const got = await retrieve(ctl, 'EPSV', srv.files.mib1.path);
    expect(got.sha256).toBe(srv.files.mib1.sha256);
    await ctl.expect('QUIT', 221);
    await ctl.waitClosed();
    expect(await eventually(() => byMsg('session end').length > 0, 5_000)).toBe(true);
    const start = byMsg('session start')[0];
    expect(start).toMatchObject({ level: 30, peer: '127.0.0.1' });
    const sid = start?.sid;
    expect(byMsg('login')).toContainEqual(expect.objectContaining({ sid, user: 'anonymous' }));
    const transfer = byMsg('transfer').find((l) => l.sid === sid);
    expect(transfer).toMatchObject({ kind: 'download', path: '/1mib.bin', bytes: 1024 * 1024, result: 'ok' });
    expect(typeof transfer?.ms).toBe('number');
    expect(transfer?.rate).toBeGreaterThan(0);
    expect(byMsg('session end')).toContainEqual(expect.objectContaining({ sid, reason: 'requested' }));
  });

  it('writes the xferlog line', async () => {
    expect(await eventually(async () => (await readFile(xferlog, 'utf8').catch(() => '')).includes('1mib.bin'), 5_000)).toBe(true);
    const line = (await readFile(xferlog, 'utf8')).split('\n').find((l) => l.includes('/1mib.bin')) ?? '';
    expect(line).toMatch(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} \d+ 127\.0\.0\.1 1048576 \/1mib\.bin b _ o a anonymous ftp 0 \* c$/);
  });

  it('serves the counters at /metrics', async () => {
    const port = srv.server.metrics?.port;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('muxftpd_transfers_total{result="ok"}')).toBeGreaterThanOrEqual(1);
    expect(value('muxftpd_bytes_total{direction="out"}')).toBeGreaterThanOrEqual(1024 * 1024);
    expect(value('muxftpd_commands_total{verb="RETR"}')).toBeGreaterThanOrEqual(1);
    expect(value('muxftpd_sessions_total')).toBeGreaterThanOrEqual(1);
    expect(value('muxftpd_limits_total{limit="maxPerIp"}')).toBe(0);
    expect(text).toMatch(/^muxftpd_clients\{worker="0"\} \d+$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_seconds /m);
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });

  it('names the engine threads (muxftpd-w<N> per worker, muxftpd-accept, muxftpd-files, muxftpd-fileops ×2) for top -H, perf and /proc', async () => {
    const workers = (await srv.server.stats()).loops.length;
    const names = resourceCounts().threadNames.filter((n) => n.startsWith('muxftpd-')).sort();
    const fixed = ['muxftpd-accept', 'muxftpd-files', 'muxftpd-fileops', 'muxftpd-fileops'];
    expect(names).toEqual([...fixed, ...Array.from({ length: workers }, (_, w) => `muxftpd-w${w}`)].sort());
  });

  it("serves each native worker's loop iterations and event batches", async () => {
    const workers = (await srv.server.stats()).loops.length;
    expect(workers).toBe((await srv.server.stats()).perWorker.length);
    // One session held open per worker (the least-loaded pick spreads them),
    // so that every worker, not only the download's, has posted events.
    const controls: FtpControl[] = [];
    for (let w = 0; w < workers; w++) controls.push(await FtpControl.login(srv.host, srv.port));
    try {
      expect((await srv.server.stats()).perWorker.every((n) => n >= 1)).toBe(true);
      const text = await (await fetch(`http://127.0.0.1:${srv.server.metrics?.port}/metrics`)).text();
      const value = (series: string) => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(text).toMatch(/^# HELP muxftpd_worker_event_batches_total .*mean batch size/m);
      for (let w = 0; w < workers; w++) {
        const iterations = value(`muxftpd_worker_loop_iterations_total{worker="${w}"}`);
        const batches = value(`muxftpd_worker_event_batches_total{worker="${w}"}`);
        const events = value(`muxftpd_worker_events_total{worker="${w}"}`);
        expect(iterations, `worker ${w}`).toBeGreaterThan(0);
        expect(batches, `worker ${w}`).toBeGreaterThan(0);
        expect(events, `worker ${w}`).toBeGreaterThanOrEqual(batches);
        // At most one batch per loop iteration.
        expect(iterations, `worker ${w}`).toBeGreaterThanOrEqual(batches);
      }
    } finally {
      for (const ctl of controls) {
        await ctl.expect('QUIT', 221);
        await ctl.waitClosed();
      }
    }
  });
});
