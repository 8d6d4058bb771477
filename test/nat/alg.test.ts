// muxftpd-bench alg-suite through a real Linux NAT (test/nat/lab.sh): the
// client behind a masquerading NAT with the kernel's FTP helper
// (nf_conntrack_ftp + nf_nat_ftp) on control port 2121 only, muxftpd on 2121
// and on 2122 (a port the helper does not watch). The nets are chosen so that
// each rewrite changes the PORT line's length (10.237.100.2 → 10.38.0.1: -3
// bytes), so the rounds probe exercises the helper's sequence adjustment.
//
// The verdicts asserted are the ones observed on this kernel and explained
// in docs/middlebox.md ("What the Linux FTP helper does"):
// - split PORT: nf_conntrack_ftp finds "PORT" at the start of a segment whose
//   line is not complete, logs "partial matching of `PORT'" and DROPS the
//   segment; TCP retransmits the same partial bytes (the rest is already
//   acknowledged or SACKed), which are dropped again: the control connection
//   stalls. Splitting only the final LF passes (the address is complete).
// - "TYPE I\r\nPORT …" in one segment: the helper matches commands only at the
//   start of a segment, so the PORT goes through unrewritten: the server sees
//   our private address and refuses it (504): activeNotRewritten.
// - a control port the helper does not watch: activeNotRewritten.
// - lower case, 10 rounds with a length change, two PORTs, a 2 s pause, EPRT:
//   rewritten correctly; every passive probe passes.
// With the helper off every active probe is activeNotRewritten (504), passive passes.
// A PORT/EPRT naming a third party (--probe-address: a documentation address,
// or another address of the client namespace): nf_conntrack_ftp sees it is
// not the connection's source, logs "NOT RECORDING" and neither rewrites it
// nor expects a connection for it (conntrack -E expect reports none, where a
// basic PORT gets one);
// muxftpd refuses it (504), with the helper on and off. A server that lets a
// bounce through (--allow-foreign-data, on a helper-watched port) accepts it,
// and its STAT shows the address as sent: the helper left it alone.
// All of this holds with the module's default loose=0; with loose=1 the
// helper records a third-party address too (and nf_nat_ftp rewrites it), so
// the test skips, saying so (a host-wide parameter: read, never set).
// In dnat mode (server behind the NAT) a 227 with the server's private address
// (no --pasv-address) is caught as unexpected; the helper rewrites it, except
// in the reply to a pipelined "TYPE I\r\nPASV", which shares its segment
// with the 200 before it. A wrong --pasv-address (a public-side address that
// is not the NAT's) is caught with the helper off and on: the helper rewrites
// a 227 only when it names the server's own address.
//
// Root, namespaces, nft or iptables; skipped with the reason where missing.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SuiteResult } from '../../bench/client/alg/suite.js';
import type { Report } from '../../bench/client/report.js';
import { algSuiteIn, benchIn } from '../helpers/lab-results.js';
import { missing } from '../helpers/requires.js';
import { benchCliPath, buildBench, collectStaleLabs, ensureBuilt, explain, Lab, type LabOptions, probe, run, Server } from './lab.js';

const env = probe();
const WATCHED = 2121;
const UNWATCHED = 2122;
/** A helper-watched port served by a muxftpd that lets PORT name any host (--allow-foreign-data). */
const BOUNCING = 2123;
/** Third parties for the third-party probe: never connected to, only written into PORT/EPRT. */
const DOC_ADDRESS = '192.0.2.1';
const CLIENT_OTHER = '10.237.100.3'; // added to the client namespace's lo: its own, but not the connection's source

let tmp = '';
let root = '';
let local = '';

/** alg-suite in the client namespace; its JSON and exit code. */
function suite(lab: Lab, args: readonly string[]): Promise<{ code: number | null; r: SuiteResult }> {
  return algSuiteIn(lab, ['--file', 'f.bin', '--verify-local', local, '--timeout', '3', '--pause', '2', ...args], 240_000);
}

/** A muxftpd-bench load run (ftpload) in the client namespace: its JSON report. */
function load(lab: Lab, port: number, args: readonly string[]): Promise<Report> {
  return benchIn(lab, [
    '--host', lab.env.connectAddr, '--port', String(port), '--scenario', 'small', '--file', 'f.bin',
    '--verify-local', local, '--checksum', '--concurrency', '4', '--count', '20', '--duration', '60', '--timeout', '5',
    '--threads', '1', ...args,
  ], 120_000);
}

const noTruth = { pasvAsExpected: 0, pasvUnexpected: 0, activeAsSeen: 0, activeFromElsewhere: 0, activeRefused: 0 };

/** "probe mode" → result, for the rows that are not skipped. */
function results(r: SuiteResult): Record<string, string> {
  return Object.fromEntries(r.verdicts.filter((v) => v.result !== 'skip').map((v) => [`${v.probe} ${v.mode}`, v.result]));
}

function verdict(r: SuiteResult, probeName: string, mode: 'active' | 'passive') {
  const v = r.verdicts.find((x) => x.probe === probeName && x.mode === mode);
  if (v === undefined) throw new Error(`no verdict for ${probeName} ${mode}`);
  return v;
}

/** The lab and its servers for one describe; torn down (by pid, then the namespaces) after it. */
function useLab(tag: string, opts: LabOptions, serverArgs: (lab: Lab) => string[][]): () => Lab {
  let lab: Lab | undefined;
  const servers: Server[] = [];
  beforeAll(async () => {
    lab = await Lab.up(tag, opts);
    for (const args of serverArgs(lab)) servers.push(await Server.start(lab.env.nsServer, args));
  }, 120_000);
  afterAll(async () => {
    for (const s of servers.splice(0)) await s.stop();
    await lab?.down();
  }, 60_000);
  return () => {
    if (lab === undefined) throw new Error('lab not up');
    return lab;
  };
}

const title = 'alg-suite through a Linux NAT with the kernel FTP helper';
describe.skipIf(env.skip !== undefined)(env.skip === undefined ? title : `${title} (skipped: ${env.skip})`, () => {
  beforeAll(async () => {
    await collectStaleLabs();
    await ensureBuilt();
    await buildBench();
    tmp = await mkdtemp(join(tmpdir(), 'muxftpd-alg-'));
    root = join(tmp, 'root');
    await mkdir(root);
    local = join(root, 'f.bin');
    await writeFile(local, randomBytes(100_003));
  }, 240_000);
  afterAll(async () => {
    if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  });

  describe(`client behind the NAT (${env.fw}), helper on ${WATCHED} only`, () => {
    const lab = useLab(
      'alg',
      {
        mode: 'snat', fw: env.fw, helper: true, ftpPorts: [WATCHED, BOUNCING], forward: '43000-43999',
        clientNet: '10.237.100', serverNet: '10.38.0',
      },
      (l) => [WATCHED, UNWATCHED, BOUNCING].map((port) => [
        '--host', l.env.serverAddr, '--port', String(port), '--root', root, '--threads', '2', '--log-level', 'warn',
        '--pasv-ports', { [WATCHED]: '43000-43499', [UNWATCHED]: '43500-43899', [BOUNCING]: '43900-43999' }[port] ?? '',
        ...(port === BOUNCING ? ['--allow-foreign-data'] : []),
      ]),
    );

    /** The third-party probe alone, active, naming `address`, on `port`. */
    const thirdParty = async (l: Lab, address: string, port = WATCHED) => {
      const { code, r } = await suite(l, ['--host', l.env.connectAddr, '--port', String(port), '--probes', 'third-party', '--modes', 'active', '--probe-address', address]);
      return { code, v: verdict(r, 'third-party', 'active') };
    };

    it('third-party: the helper passes a PORT naming another address unchanged: muxftpd refuses it, a server that allows bounces shows it as sent', async (ctx) => {
      const l = lab();
      const loose = await run('cat', ['/sys/module/nf_conntrack_ftp/parameters/loose']);
      if (loose.stdout.trim() !== 'N') ctx.skip(`nf_conntrack_ftp loose=${loose.stdout.trim() || '?'} on this host: the helper records third-party addresses`);
      const add = await l.exec('client', 'ip', ['addr', 'add', `${CLIENT_OTHER}/32`, 'dev', 'lo']);
      expect(add.code, explain(add)).toBe(0);
      const refused = (port: string) => new RegExp(`^2 rounds: EPRT naming ${port.replaceAll('.', '\\.')}:\\d+: refused: 504 Data connections go to the client address only\\.$`);
      for (const address of [DOC_ADDRESS, CLIENT_OTHER]) {
        const { code, v } = await thirdParty(l, address);
        expect([v.result, v.happened], v.why).toEqual(['pass', expect.stringMatching(refused(address))]);
        expect(code).toBe(0);
      }

      // A server that lets the bounce through: its STAT shows the address as sent, not rewritten by the helper.
      for (const address of [DOC_ADDRESS, CLIENT_OTHER]) {
        const { code, v } = await thirdParty(l, address, BOUNCING);
        expect(v.result).toBe('fail');
        const at = address.replaceAll('.', '\\.');
        expect(v.happened).toMatch(new RegExp(`^PORT naming ${at}:(\\d+): accepted: 200 PORT command successful\\.; STAT: the server connects to ${at}:\\1$`));
        expect(v.why).toBe(`the server accepted a PORT naming ${address}, not the client: an FTP bounce let through (RFC 2577)`);
        expect(code).toBe(1);
      }

      await l.helper(false);
      try {
        const { v } = await thirdParty(l, DOC_ADDRESS);
        expect([v.result, v.happened]).toEqual(['pass', expect.stringMatching(refused(DOC_ADDRESS))]);
      } finally {
        await l.helper(true);
      }

      // A bad --probe-address stops the run before any connection: exit 2, one line naming the flag.
      const bad = await l.client(process.execPath, [benchCliPath, 'alg-suite', '--host', l.env.connectAddr, '--port', String(WATCHED), '--probe-address', '192.0.2.300']);
      expect(bad.code, explain(bad)).toBe(2);
      expect(bad.stderr).toMatch(/^muxftpd-bench alg-suite: --probe-address: expected an IPv4 or IPv6 address, got '192\.0\.2\.300'\n/);
    }, 240_000);

    it.skipIf(missing('conntrack'))('third-party: the helper creates no expectation (pinhole) for it; a basic PORT does', async (ctx) => {
      const l = lab();
      const loose = await run('cat', ['/sys/module/nf_conntrack_ftp/parameters/loose']);
      if (loose.stdout.trim() !== 'N') ctx.skip(`nf_conntrack_ftp loose=${loose.stdout.trim() || '?'} on this host: the helper records third-party addresses`);
      // The NAT's expectation events, in order. A basic PORT before shows the
      // watcher is live; one after is the marker: any expectation the
      // third-party PORTs caused would have been reported before it.
      const watcher = spawn('ip', ['netns', 'exec', l.env.nsNat, 'conntrack', '-E', 'expect'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let events = '';
      watcher.stdout.setEncoding('utf8').on('data', (d: string) => (events += d));
      const created = (): string[] => events.split('\n').filter((line) => line.includes('[NEW]'));
      const basicThenSeen = async (): Promise<number> => {
        const before = created().length;
        const { r } = await suite(l, ['--host', l.env.connectAddr, '--port', String(WATCHED), '--probes', 'basic', '--modes', 'active']);
        expect(verdict(r, 'basic', 'active').result).toBe('pass');
        for (let i = 0; i < 50 && created().length === before; i++) await new Promise((res) => setTimeout(res, 100));
        return created().length - before;
      };
      try {
        expect(await basicThenSeen(), events).toBe(1);
        const before = created().length;
        for (const address of [DOC_ADDRESS, CLIENT_OTHER]) expect((await thirdParty(l, address)).v.result).toBe('pass');
        expect(await basicThenSeen(), events).toBe(1);
        // Only the marker's expectation came after `before`: none for the four third-party PORT/EPRTs.
        expect(created().slice(before), events).toHaveLength(1);
        expect(created().join('\n')).not.toMatch(new RegExp(`${DOC_ADDRESS}|${CLIENT_OTHER}`.replaceAll('.', '\\.')));
      } finally {
        if (watcher.pid !== undefined && watcher.exitCode === null) process.kill(watcher.pid, 'SIGTERM');
      }
    }, 120_000);

    it('helper on: the verdicts of nf_conntrack_ftp on this kernel', async () => {
      const l = lab();
      const { code, r } = await suite(l, ['--host', l.env.connectAddr, '--port', String(WATCHED), '--unwatched-port', String(UNWATCHED)]);
      expect(r.own).toBe(l.env.clientAddr);
      expect(r.seenAs).toBe(l.env.seenAs);
      const fails = ['split active', 'pipelined active', 'unwatched-port active'];
      const expected = Object.fromEntries(
        Object.keys(results(r)).map((k) => [k, fails.includes(k) ? 'fail' : 'pass']),
      );
      expect(results(r), JSON.stringify(r.verdicts, null, 1)).toEqual(expected);
      expect(Object.keys(expected)).toHaveLength(18); // eprt-2 needs IPv6: skipped
      expect(code).toBe(1);

      expect(verdict(r, 'split', 'active').why).toMatch(/stalled at the PORT/);
      for (const p of ['pipelined', 'unwatched-port']) {
        const v = verdict(r, p, 'active');
        expect(v.classes).toEqual(['activeNotRewritten']);
        expect(v.happened).toMatch(/504/);
        expect(v.why).toContain(`activeNotRewritten: the server refused the data address (504); the server sees us as ${l.env.seenAs} but PORT carried our own ${l.env.clientAddr}`);
      }
      // Ten rewrites, each 3 bytes shorter, kept in step by the helper's sequence adjustment.
      expect(verdict(r, 'rounds', 'active').happened).toMatch(/^10 rounds: .*shifts the stream by -3 bytes/);
      expect(r.counts.active).toEqual({ activeAsSeen: 15, activeNotRewritten: 2, activeRewrittenElsewhere: 0 });
      expect(r.counts.pasvReply).toEqual({ asExpected: 18, unexpected: 0 });
      // ESTP: the server sees every passive data connection from the NAT's address, as the control one.
      expect([r.esta, r.estp]).toEqual([true, true]);
      expect(r.counts.passive).toEqual({ passiveControlPeer: 18, passiveForeignRefused: 0 });
    }, 240_000);

    it('a load run counts the same: PORT rewritten (activeAsSeen), every 227 as expected', async () => {
      const l = lab();
      const port = await load(l, WATCHED, ['--mode', 'port']);
      expect(port.errors).toEqual({});
      expect(port.verifiedChecksum).toBe(20);
      expect(port.addressTruth).toEqual({ ...noTruth, activeAsSeen: 20 });
      const pasv = await load(l, WATCHED, ['--mode', 'pasv', '--expect-pasv-address', l.env.serverAddr]);
      expect(pasv.addressTruth).toEqual({ ...noTruth, pasvAsExpected: 20 });
    }, 120_000);

    it('split: only a split inside the address stalls; splitting off the final LF passes', async () => {
      const l = lab();
      const at = async (offset: number): Promise<string> => {
        const { r } = await suite(l, ['--host', l.env.connectAddr, '--port', String(WATCHED), '--probes', 'split', '--modes', 'active', '--split-at', String(offset)]);
        return verdict(r, 'split', 'active').result;
      };
      expect(await at(2)).toBe('fail'); // "PO" | "RT 10,…"
      expect(await at(4)).toBe('fail'); // "PORT" | " 10,…"
      expect(await at(1000)).toBe('pass'); // "PORT 10,…,p2\r" | "\n"
    }, 120_000);

    it('helper off: every active probe activeNotRewritten (504), every passive probe passes', async () => {
      const l = lab();
      await l.helper(false);
      try {
        const { code, r } = await suite(l, ['--host', l.env.connectAddr, '--port', String(WATCHED), '--unwatched-port', String(UNWATCHED), '--rounds', '3']);
        expect(code).toBe(1);
        for (const v of r.verdicts.filter((x) => x.result !== 'skip')) {
          if (v.mode === 'passive') {
            expect(v.result, v.why).toBe('pass');
            continue;
          }
          expect(v.result).toBe('fail');
          // The first round fails; a multi-round probe stops there.
          expect(v.classes, `${v.probe}: ${v.happened}`).toEqual(['activeNotRewritten']);
          expect(v.why).toMatch(/activeNotRewritten: the server refused the data address \(504\)/);
        }
        expect(r.counts.active).toEqual({ activeAsSeen: 0, activeNotRewritten: 9, activeRewrittenElsewhere: 0 });
        // A load run: every PORT refused, each counted; the errors name the state and code.
        const port = await load(l, WATCHED, ['--mode', 'port', '--count', '8']);
        expect(port.addressTruth).toEqual({ ...noTruth, activeRefused: 8 });
        expect(port.errors).toEqual({ port_504: 8 });
      } finally {
        await l.helper(true);
      }
    }, 240_000);
  });

  describe(`server behind the NAT, port forward (${env.fw}): the 227 checked against the public address`, () => {
    const PORT_A = 2121; // --pasv-address public
    const PORT_B = 2122; // no --pasv-address: announces its private address
    const PORT_C = 2123; // a wrong --pasv-address: a public-side address that is not the NAT's
    const wrongAddress = '10.239.0.99';
    const lab = useLab(
      'algdnat',
      {
        mode: 'dnat', fw: env.fw, helper: false, ftpPorts: [PORT_A, PORT_B, PORT_C], forward: '44000-45499',
        clientNet: '10.239.0', serverNet: '10.240.0',
      },
      (l) => {
        const common = ['--host', l.env.serverAddr, '--root', root, '--threads', '2', '--log-level', 'warn'];
        return [
          [...common, '--port', String(PORT_A), '--pasv-ports', '44000-44499', '--pasv-address', l.env.publicAddr],
          [...common, '--port', String(PORT_B), '--pasv-ports', '44500-44999'],
          [...common, '--port', String(PORT_C), '--pasv-ports', '45000-45499', '--pasv-address', wrongAddress],
        ];
      },
    );
    const args = (l: Lab, port: number): string[] => [
      '--host', l.env.connectAddr, '--port', String(port), '--expect-pasv-address', l.env.publicAddr,
      '--modes', 'passive', '--rounds', '3',
    ];

    it('with --pasv-address every passive probe passes', async () => {
      const l = lab();
      const { code, r } = await suite(l, args(l, PORT_A));
      expect(r.failed, JSON.stringify(r.verdicts, null, 1)).toBe(0);
      expect(code).toBe(0);
      const pasv = await load(l, PORT_A, ['--mode', 'pasv', '--expect-pasv-address', l.env.publicAddr]);
      expect(pasv.addressTruth).toEqual({ ...noTruth, pasvAsExpected: 20 });
      // Without --pasv-address the load counts each private 227 (the data still goes to --host).
      const leak = await load(l, PORT_B, ['--mode', 'pasv', '--expect-pasv-address', l.env.publicAddr]);
      expect(leak.addressTruth).toEqual({ ...noTruth, pasvUnexpected: 20 });
      expect(leak.errors).toEqual({});
    }, 120_000);

    it('without it the private address in each 227 is caught; the helper on the forward rewrites all but the pipelined one', async () => {
      const l = lab();
      const { r } = await suite(l, args(l, PORT_B));
      for (const v of r.verdicts.filter((x) => x.result !== 'skip')) {
        // EPSV (eprt-1's passive side) carries no address.
        if (v.probe === 'eprt-1') expect(v.result).toBe('pass');
        else expect(v.why).toBe(`the 227 carried ${l.env.serverAddr}, expected ${l.env.publicAddr}`);
      }
      await l.helper(true);
      try {
        const { code, r: fixed } = await suite(l, args(l, PORT_B));
        // All but one: muxftpd answers the pipelined "TYPE I\r\nPASV" with
        // 200 and 227 in one segment, and the helper looks for "227 " only at
        // the start of a segment, so that 227 keeps the private address.
        const failed = fixed.verdicts.filter((v) => v.result === 'fail');
        expect(failed.map((v) => `${v.probe} ${v.mode}`), JSON.stringify(fixed.verdicts, null, 1)).toEqual(['pipelined passive']);
        expect(failed[0]?.why).toBe(`the 227 carried ${l.env.serverAddr}, expected ${l.env.publicAddr}`);
        expect(fixed.counts.pasvReply).toEqual({ asExpected: 9, unexpected: 1 });
        expect(code).toBe(1);
      } finally {
        await l.helper(false);
      }
    }, 240_000);

    it('a wrong --pasv-address is caught with the helper off and on: the helper rewrites only the server\'s own address', async () => {
      const l = lab();
      const wrong = `the 227 carried ${wrongAddress}, expected ${l.env.publicAddr}`;
      const check = async (): Promise<void> => {
        const { code, r } = await suite(l, args(l, PORT_C));
        for (const v of r.verdicts.filter((x) => x.result !== 'skip')) {
          if (v.probe === 'eprt-1') expect(v.result).toBe('pass'); // EPSV carries no address
          else expect([v.result, v.why], `${v.probe}: ${v.happened}`).toEqual(['fail', wrong]);
        }
        // One wrong 227 per probe: a probe of several rounds or PASVs stops at its first.
        expect(r.counts.pasvReply).toEqual({ asExpected: 1, unexpected: 7 });
        expect(code).toBe(1);
        // A load run counts every 227 as unexpected; its data still goes to --host, so no error.
        const leak = await load(l, PORT_C, ['--mode', 'pasv', '--expect-pasv-address', l.env.publicAddr]);
        expect(leak.addressTruth).toEqual({ ...noTruth, pasvUnexpected: 20 });
        expect(leak.errors).toEqual({});
      };
      await check();
      // nf_conntrack_ftp records (and nf_nat_ftp rewrites) a 227 only when it
      // names the server's own address; any other it leaves as it is.
      await l.helper(true);
      try {
        await check();
      } finally {
        await l.helper(false);
      }
    }, 240_000);
  });
});
