// Three muxftpd servers behind a real Linux load balancer (test/lb/lab.sh):
// client, balancer and server network namespaces, the balancer's nftables
// DNAT spreading new control connections to its virtual address over the
// servers. Two variants:
// - helper: round robin (numgen inc), the FTP conntrack helper on every
//   control connection, so each data connection, passive or active, follows
//   its control connection to the same server; the servers share one passive
//   range and announce their own address (nf_nat_ftp rewrites it to VIP);
// - slices: no helper, jhash of the client's address and port; each server
//   announces VIP (--pasv-address) and owns a slice of the passive range
//   (--pasv-ports), which the balancer forwards to it by port.
// Each: 10,000 sessions through VIP (muxftpd-bench, a 4 KiB-ish file per
// session, CRC-32 checked; 2,500 each of EPSV, PASV, EPRT and PORT at once),
// every server between 25% and 42% of them by its own metrics; then a server
// killed mid-run: its sessions fail, the others' do not, and once it is out
// of the balancer's map every new session goes to the two left.
// IPVS (keepalived's balancer, ip_vs_ftp) is described in
// docs/load-balancing.md; this kernel has none, and the test says so.
//
// Root, iproute2, nft, ftpload built; skipped with the reason otherwise.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../../bench/client/report.js';
import { buildBench, ensureBuilt, Server } from '../nat/lab.js';
import { eventually } from '../integration/helpers/clients.js';
import { benchIn } from '../helpers/lab-results.js';
import { collectStaleLabs, ipvsMissing, LbLab, type LbOptions, probe, scrape, type ServerCounts } from './lab.js';

const skip = probe();
// IPVS is not automated: its lab would need a kernel with it (and ipvsadm);
// docs/load-balancing.md gives its configuration.
const ipvsSkip = ipvsMissing();
if (skip === undefined && ipvsSkip !== undefined) console.warn(`balancer namespace test: IPVS variant skipped: ${ipvsSkip}`);

const SERVERS = 3;
const METRICS_PORT = 9100;
const SESSIONS = 10_000;
const MODES = ['epsv', 'pasv', 'eprt', 'port'] as const;
/** Sessions at once per muxftpd-bench run (one run per mode, all at once). */
const CONCURRENCY = 8;
const FILE = 'f.bin';
/** Sessions of each of the two runs (EPSV, PORT) during which a server is killed. */
const KILL_RUN = 1500;

let tmp = '';
let root = '';

interface Variant {
  name: string;
  opts: LbOptions;
  /** muxftpd's passive flags for server i (0-based). */
  pasv: (lab: LbLab, i: number) => string[];
}

const variants: Variant[] = [
  {
    name: 'nftables DNAT (numgen round robin) + FTP conntrack helper, one shared passive range',
    opts: {
      variant: 'helper', spread: 'numgen', servers: SERVERS, ftpPort: 2121, pasvRange: '40000-40999',
      clientNet: '10.245.0', serverNet: '10.246.0',
    },
    pasv: (lab) => ['--pasv-ports', lab.env.pasvRange],
  },
  {
    name: 'nftables DNAT (jhash), no helper: --pasv-address VIP and a passive slice per server, forwarded by port',
    opts: {
      variant: 'slices', spread: 'jhash', servers: SERVERS, ftpPort: 2121, pasvRange: '41000-41899',
      clientNet: '10.247.0', serverNet: '10.248.0',
    },
    pasv: (lab, i) => ['--pasv-address', lab.env.vip, '--pasv-ports', lab.env.servers[i]?.slice ?? ''],
  },
];

/** muxftpd-bench args: sessions to VIP, a new one per download of FILE, each CRC-32 checked. */
function loadArgs(lab: LbLab, mode: string, count: number, timeoutS: number): string[] {
  return [
    '--host', lab.env.vip, '--port', String(lab.env.ftpPort), '--threads', '1',
    '--scenario', 'small', '--file', FILE, '--verify-local', join(root, FILE), '--checksum', '--mode', mode,
    '--concurrency', String(CONCURRENCY), '--count', String(count), '--duration', '240', '--timeout', String(timeoutS),
  ];
}

function sub(a: Record<string, number>, b: Record<string, number>, key: string): number {
  return (a[key] ?? 0) - (b[key] ?? 0);
}

/** What a server did between two scrapes. */
function delta(after: ServerCounts, before: ServerCounts) {
  const cmd = (v: string): number => sub(after.commands, before.commands, v);
  const notOk = Object.keys(after.transfers).filter((k) => k !== 'ok').reduce((n, k) => n + sub(after.transfers, before.transfers, k), 0);
  return {
    sessions: after.sessions - before.sessions,
    passive: cmd('EPSV') + cmd('PASV'),
    active: cmd('EPRT') + cmd('PORT'),
    transfersOk: sub(after.transfers, before.transfers, 'ok'),
    transfersNotOk: notOk,
    passiveFromPeer: sub(after.dataConnections, before.dataConnections, 'passiveControlPeer'),
    activeAsSeen: sub(after.dataConnections, before.dataConnections, 'activeAsSeen'),
  };
}

/** Polls until `ok` says yes; fails naming `what` after timeoutMs. */
async function waitFor(what: string, ok: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  expect(await eventually(ok, timeoutMs, 200), `timed out waiting for ${what}`).toBe(true);
}

const title = 'N muxftpd servers behind a Linux load balancer in network namespaces';
describe.skipIf(skip !== undefined)(skip === undefined ? title : `${title} (skipped: ${skip})`, () => {
  beforeAll(async () => {
    await collectStaleLabs();
    await ensureBuilt();
    await buildBench();
    tmp = await mkdtemp(join(tmpdir(), 'muxftpd-lb-'));
    root = join(tmp, 'root');
    await mkdir(root);
    await writeFile(join(root, FILE), randomBytes(4096 + 7));
  }, 240_000);

  afterAll(async () => {
    if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  });

  describe.each(variants)('$name', ({ opts, pasv }) => {
    let lab: LbLab | undefined;
    const servers: Server[] = [];

    beforeAll(async () => {
      lab = await LbLab.up(opts.variant, opts);
      try {
        for (const [i, s] of lab.env.servers.entries()) {
          servers.push(await Server.start(s.ns, [
            '--host', s.addr, '--port', String(opts.ftpPort), '--root', root, '--threads', '1', '--log-level', 'warn',
            '--metrics-port', String(METRICS_PORT), ...pasv(lab, i),
          ]));
        }
      } catch (e) {
        for (const s of servers.splice(0)) await s.stop();
        await lab.down();
        lab = undefined;
        throw e;
      }
    }, 120_000);

    afterAll(async () => {
      for (const s of servers) await s.stop();
      await lab?.down();
    }, 60_000);

    const up = (): LbLab => {
      if (lab === undefined || servers.length !== SERVERS) throw new Error('lab not up');
      return lab;
    };
    const counts = (which: readonly number[]): Promise<ServerCounts[]> =>
      Promise.all(which.map((i) => {
        const s = up().env.servers[i];
        if (s === undefined) throw new Error(`no server ${i}`);
        return scrape(s.ns, s.addr, METRICS_PORT);
      }));

    it(`${SESSIONS} sessions through VIP, half passive, half active: every checksum right, each server 25-42% of them, data with its control`, async () => {
      const l = up();
      const before = await counts([0, 1, 2]);
      const perMode = SESSIONS / MODES.length;
      const reports = await Promise.all(MODES.map((m) => benchIn(l, loadArgs(l, m, perMode, 10), 300_000)));
      for (const [k, r] of reports.entries()) {
        const mode = MODES[k] ?? '';
        expect(r.errors, mode).toEqual({});
        expect([r.sessionsStarted, r.ops, r.verifiedChecksum], mode).toEqual([perMode, perMode, perMode]);
        // ftpload connects to VIP; it checks that every 227/229 names VIP
        // and that every active data connection comes from VIP.
        const truth = r.addressTruth;
        if (mode === 'epsv' || mode === 'pasv') expect([truth?.pasvAsExpected, truth?.pasvUnexpected], mode).toEqual([perMode, 0]);
        else expect([truth?.activeAsSeen, truth?.activeFromElsewhere], mode).toEqual([perMode, 0]);
      }
      const after = await counts([0, 1, 2]);
      const d = after.map((a, i) => delta(a, before[i] as ServerCounts));
      expect(d.reduce((n, x) => n + x.sessions, 0)).toBe(SESSIONS);
      for (const [i, x] of d.entries()) {
        expect(x.sessions, `server ${i + 1}: ${JSON.stringify(d)}`).toBeGreaterThanOrEqual(0.25 * SESSIONS);
        expect(x.sessions, `server ${i + 1}: ${JSON.stringify(d)}`).toBeLessThanOrEqual(0.42 * SESSIONS);
        // Each server's data connections are those of its own control
        // connections: every passive one came from the client of the
        // session that asked for it, every active one reached it.
        expect(x.passive + x.active, `server ${i + 1}`).toBe(x.sessions);
        expect(x.passive, `server ${i + 1}`).toBeGreaterThan(0);
        expect(x.active, `server ${i + 1}`).toBeGreaterThan(0);
        expect(x.passiveFromPeer, `server ${i + 1}`).toBe(x.passive);
        expect(x.activeAsSeen, `server ${i + 1}`).toBe(x.active);
        expect([x.transfersOk, x.transfersNotOk], `server ${i + 1}`).toEqual([x.sessions, 0]);
      }
    }, 400_000);

    it('a server killed mid-run: its sessions fail, the others go on; out of the map, new sessions go to the two left', async () => {
      const l = up();
      const survivors = [0, 1];
      const victim = servers[2] as Server;
      const before = await counts(survivors);
      const spread0 = await l.balanced();
      // One passive and one active run; --timeout 5 bounds a session waiting on the dead server.
      const running = Promise.all(['epsv', 'port'].map((m) => benchIn(l, loadArgs(l, m, KILL_RUN, 5), 300_000)));
      let reports: Report[];
      try {
        await waitFor('600 sessions before the kill', async () => (await l.balanced()) >= spread0 + 600, 120_000);
        if (victim.child.pid !== undefined) process.kill(victim.child.pid, 'SIGKILL');
        expect((await victim.exited).signal).toBe('SIGKILL');
        const atKill = await counts(survivors);
        const spreadKill = await l.balanced();
        // Still in the map: a third of the new control connections are refused.
        await waitFor('300 more sessions with the server dead', async () => (await l.balanced()) >= spreadKill + 300, 120_000);
        const whileDead = await counts(survivors);
        for (const i of survivors) {
          expect((whileDead[i] as ServerCounts).sessions, `server ${i + 1} went on`).toBeGreaterThan((atKill[i] as ServerCounts).sessions);
        }
        // What keepalived's health check (or an operator) does: out of the map.
        await l.backends([1, 2]);
      } finally {
        reports = await running;
      }
      let refused = 0;
      let cut = 0;
      for (const r of reports) {
        expect(r.sessionsStarted).toBe(KILL_RUN);
        expect(r.ops + r.errorTotal + r.abortedAtEnd).toBe(KILL_RUN);
        expect(r.verifiedChecksum).toBe(r.ops);
        for (const [kind, n] of Object.entries(r.errors)) {
          // New sessions sent to the dead server are refused (its namespace
          // answers with a RST); those it held are reset or time out.
          expect(kind).toMatch(/^connect_refused$|_reset$|^closed_in_|^timeout_/);
          if (kind === 'connect_refused') refused += n;
          else cut += n;
        }
      }
      expect(refused, JSON.stringify(reports.map((r) => r.errors))).toBeGreaterThan(0);
      // At most the sessions in flight when it died (the runs' concurrency).
      expect(cut, JSON.stringify(reports.map((r) => r.errors))).toBeLessThanOrEqual(2 * CONCURRENCY);
      const afterKill = await counts(survivors);
      for (const i of survivors) {
        // No session of a survivor failed.
        const x = delta(afterKill[i] as ServerCounts, before[i] as ServerCounts);
        expect([x.transfersOk, x.transfersNotOk], `server ${i + 1}`).toEqual([x.sessions, 0]);
      }

      // With the map updated: 1,000 new sessions, none refused, all on the two left.
      const fresh = await Promise.all(['epsv', 'port'].map((m) => benchIn(l, loadArgs(l, m, 500, 10), 300_000)));
      for (const r of fresh) {
        expect(r.errors).toEqual({});
        expect([r.ops, r.verifiedChecksum]).toEqual([500, 500]);
      }
      const end = await counts(survivors);
      const d = survivors.map((i) => delta(end[i] as ServerCounts, afterKill[i] as ServerCounts));
      expect(d.reduce((n, x) => n + x.sessions, 0)).toBe(1000);
      for (const x of d) {
        expect(x.sessions, JSON.stringify(d)).toBeGreaterThanOrEqual(300);
        expect([x.transfersOk, x.transfersNotOk]).toEqual([x.sessions, 0]);
      }
    }, 400_000);
  });
});
