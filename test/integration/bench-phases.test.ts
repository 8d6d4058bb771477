// Phase latency (issue 24) measured for real: muxftpd-bench's ftpload against
// the real server on loopback, downloads over EPSV and PORT, uploads over
// EPRT, in two processes whose phases merge. Every phase a scenario has must
// be measured, with p50 <= p99 <= max; the phase names ftpload prints are the
// ones bench/client/phases.ts reads. And over explicit FTPS (the login phase
// then starts after the handshake). Bounded by --count, --duration and
// --timeout; speed is never asserted. And --max-data-setups: the data
// setups in flight at once stay under it.
import { describe, expect, it } from 'vitest';
import { runFtpload } from '../../bench/client/ftpload.js';
import { BenchUsageError, parseCli } from '../../bench/client/options.js';
import { phaseNames, type PhaseName } from '../../bench/client/phases.js';
import { buildReport, formatReport } from '../../bench/client/report.js';
import { missing, notBuilt } from '../helpers/requires.js';
import { useFtpsServer } from './helpers/ftps.js';
import { expectServes, type TestServer, useServer } from './helpers/server.js';

const srv = useServer({ writable: true });
const ftps = useFtpsServer();

async function run(...args: string[]): Promise<ReturnType<typeof buildReport>> {
  return runOn(srv, ...args);
}

async function runOn(server: TestServer, ...args: string[]): Promise<ReturnType<typeof buildReport>> {
  const o = parseCli([
    '--host', server.host, '--port', String(server.port), '--concurrency', '4', '--count', '40',
    '--duration', '20', '--timeout', '10', '--threads', '1', '--processes', '2', ...args,
  ]).load;
  const r = await runFtpload(o);
  expect(Object.keys(r.summary.phases ?? {}), 'the phases ftpload prints').toEqual([...phaseNames]);
  const report = buildReport(r.summary, r.processes);
  expect(report.errors).toEqual({});
  return report;
}

function expectMeasured(report: ReturnType<typeof buildReport>, names: readonly PhaseName[]): void {
  for (const n of names) {
    const p = report.phases?.[n];
    expect(p?.count, `${n} measured`).toBeGreaterThan(0);
    if (!p) continue;
    expect(p.p50, `${n} p50 <= p99`).toBeLessThanOrEqual(p.p99);
    expect(p.p99, `${n} p99 <= max`).toBeLessThanOrEqual(p.max);
  }
}

describe.skipIf(notBuilt('ftpload'))('phase latency against muxftpd', () => {
  it('measures every phase of new-session downloads over EPSV', { timeout: 60_000 }, async () => {
    const file = srv.files.hello;
    const r = await run('--scenario', 'small', '--mode', 'epsv', '--file', file.path, '--file-size', String(file.size));
    expect(r.ops).toBeGreaterThanOrEqual(40);
    expectMeasured(r, phaseNames);
    // A session per download: each one connected, logged in, set up data and quit once.
    const p = r.phases;
    expect(p?.connect.count).toBeGreaterThanOrEqual(r.ops);
    expect(p?.data_setup.count).toBe(p?.xfer_done.count);
    expect(p?.quit.count).toBe(r.ops);
    expect(formatReport(r)).toMatch(/phase data_setup\s+p50 /);
  });

  it('measures the active data setup (PORT → the server\'s connect accepted)', { timeout: 60_000 }, async () => {
    const file = srv.files.hello;
    const r = await run('--scenario', 'small', '--mode', 'port', '--file', file.path, '--file-size', String(file.size));
    expectMeasured(r, phaseNames);
    expect(r.addressTruth?.activeAsSeen).toBe(r.phases?.data_setup.count);
  });

  it('measures the first byte sent of uploads over EPRT', { timeout: 60_000 }, async () => {
    const r = await run('--scenario', 'upload', '--mode', 'eprt', '--upload-size', '65536', '--upload-prefix', 'phases-up');
    expectMeasured(r, phaseNames);
    expect(r.phases?.first_byte.count).toBeGreaterThanOrEqual(40);
  });

  it('measures connect, banner, login and QUIT of login-only sessions, no data phases', { timeout: 60_000 }, async () => {
    const r = await run('--scenario', 'login');
    expectMeasured(r, ['connect', 'banner', 'login', 'quit']);
    for (const n of ['data_setup', 'first_byte', 'xfer_done'] as const) expect(r.phases?.[n].count).toBe(0);
  });

  it('keeps at most --max-data-setups data setups in flight, the others waiting their turn', { timeout: 60_000 }, async () => {
    const file = srv.files.hello;
    for (const mode of ['epsv', 'eprt']) {
      const r = await run('--scenario', 'persistent', '--mode', mode, '--concurrency', '20', '--max-data-setups', '2',
        '--file', file.path, '--file-size', String(file.size));
      expect(r.ops, mode).toBeGreaterThanOrEqual(40);
      // One per process of the two, so at most 1 + 1.
      expect(r.maxDataSetups, mode).toBeGreaterThan(0);
      expect(r.maxDataSetups, mode).toBeLessThanOrEqual(2);
      expectMeasured(r, ['data_setup', 'first_byte', 'xfer_done']);
    }
    // Fewer than one per process cannot be shared out: refused, not silently raised.
    expect(() => parseCli(['--scenario', 'persistent', '--max-data-setups', '1', '--processes', '2'])).toThrow(BenchUsageError);
  });

  it.skipIf(missing('libssl-dev'))('measures every phase over explicit FTPS', { timeout: 60_000 }, async () => {
    const file = ftps.files.hello;
    const r = await runOn(ftps, '--scenario', 'small', '--tls', 'explicit', '--file', file.path, '--file-size', String(file.size));
    expectMeasured(r, phaseNames);
    expect(r.tls?.fullHandshakes).toBeGreaterThan(0);
  });

  it('the servers still serve afterwards', async () => {
    await expectServes(srv);
    await expectServes(ftps);
  });
});
