// muxftpd-bench alg-suite straight against the real server on loopback, no
// middlebox between: every probe in both modes must pass and every active
// data connection be classified activeAsSeen, with the bytes checked by sha256;
// the unwatched-port probe against a second server on the same root; EPRT
// |2| and EPSV over ::1. And the instrument must not lie the other way: a
// wrong expected PASV address fails exactly the probes that got a 227.
// The third-party probe (--probe-address 127.0.0.2, on lo like all of
// 127.0.0.0/8; the server sees the control peer 127.0.0.1): muxftpd refuses
// it (pass); with --allow-foreign-data it accepts it (fail: a bounce, STAT
// naming where it connects); through a userspace "helper" that rewrites the
// third-party address into the client's, the rewrite is named (fail).
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, startServer } from '../../src/index.js';
import { exitCode, formatSuite, runSuite, type SuiteOptions } from '../../bench/client/alg/suite.js';
import { probeNames } from '../../bench/client/alg/probes.js';
import { canListen } from './helpers/clients.js';
import { testDefaults, testLog, useServer } from './helpers/server.js';
import path from 'node:path';

/** The third party the probe names: on lo, but not the client's address. */
const other = '127.0.0.2';

const base = {
  user: 'anonymous', pass: 'alg@', splitAt: 9, splitPauseMs: 50, pauseMs: 300, rounds: 10, timeoutMs: 10_000,
  modes: ['active', 'passive'],
} satisfies Partial<SuiteOptions>;

describe('alg-suite against muxftpd on 127.0.0.1, nothing between', () => {
  const srv = useServer({}, '127.0.0.1');
  let second: ServerHandle | undefined;
  beforeAll(async () => {
    // The "unwatched" control port: the same files from a second server.
    second = await startServer({ ...testDefaults, processes: 1, log: testLog(), host: '127.0.0.1', port: 0, root: srv.root });
  });
  afterAll(async () => {
    await second?.close();
  });

  it('every probe passes in both modes, every active connection activeAsSeen, every 227 as expected', async () => {
    const file = srv.files.mib1;
    const r = await runSuite({
      ...base, host: '127.0.0.1', port: srv.port, unwatchedPort: second?.address.port,
      file: file.path, verifyLocal: path.join(srv.root, file.path),
    });
    const table = formatSuite(r);
    expect(r.failed, table).toBe(0);
    expect(exitCode(r)).toBe(0);
    expect(r.seenAs).toBe('127.0.0.1');
    // Only the IPv6 probe is skipped on an IPv4 control connection, and third-party without --probe-address.
    expect(r.verdicts.filter((v) => v.result === 'skip').map((v) => `${v.probe} ${v.mode}: ${v.why}`)).toEqual([
      'eprt-2 active: the control connection is IPv4: EPRT |2| needs IPv6 (run the suite with an IPv6 --host)',
      'eprt-2 passive: the control connection is IPv4: EPRT |2| needs IPv6 (run the suite with an IPv6 --host)',
      'third-party active: no --probe-address given',
      'third-party passive: active only: PASV/EPSV name no address of the client\'s',
    ]);
    expect(r.verdicts.map((v) => v.probe)).toEqual(probeNames.flatMap((p) => [p, p]));
    // 10 rounds + 8 single-round probes in each mode.
    expect(r.counts.active).toEqual({ activeAsSeen: 18, activeNotRewritten: 0, activeRewrittenElsewhere: 0 });
    expect(r.counts.pasvReply).toEqual({ asExpected: 18, unexpected: 0 });
    // muxftpd answers ESTA/ESTP: every passive connection seen from the control peer.
    expect([r.esta, r.estp]).toEqual([true, true]);
    expect(r.counts.passive).toEqual({ passiveControlPeer: 18, passiveForeignRefused: 0 });
    expect(r.verdicts.find((v) => v.probe === 'basic' && v.mode === 'active')?.happened).toMatch(/\(ESTA: server end 127\.0\.0\.1:\d+\)/);
    expect(r.verdicts.find((v) => v.probe === 'basic' && v.mode === 'passive')?.happened).toMatch(/\(ESTP: server sees 127\.0\.0\.1:\d+\)/);
    for (const v of r.verdicts.filter((x) => x.result === 'pass')) expect(v.happened).toMatch(/1048576 bytes verified/);
    expect(table).toMatch(/18 passed, 0 failed, 4 skipped/);
  }, 120_000);

  it('LIST instead of a file: the listings pass too', async () => {
    const r = await runSuite({ ...base, host: '127.0.0.1', port: srv.port, only: ['basic', 'pipelined'], rounds: 2 });
    expect(r.failed, formatSuite(r)).toBe(0);
    expect(r.passed).toBe(4);
  }, 60_000);

  it('a wrong expected PASV address fails exactly the probes that got a 227, each saying so', async () => {
    const r = await runSuite({
      ...base, host: '127.0.0.1', port: srv.port, expectPasvAddress: '127.0.0.9', modes: ['passive'],
      file: srv.files.hello.path, rounds: 2, pauseMs: 0,
    });
    const failed = r.verdicts.filter((v) => v.result === 'fail');
    // eprt-1 passive is EPSV: a 229 carries no address.
    expect(failed.map((v) => v.probe)).toEqual(probeNames.filter((p) => !['eprt-1', 'eprt-2', 'unwatched-port', 'third-party'].includes(p)));
    for (const v of failed) expect(v.why).toMatch(/the 227 carried 127\.0\.0\.1, expected 127\.0\.0\.9$/);
    expect(r.counts.pasvReply.unexpected).toBe(failed.length);
    expect(exitCode(r)).toBe(1);
  }, 60_000);

  it('--probe-address 127.0.0.2: PORT and EPRT |1| naming it are refused as a bounce (504): pass', async () => {
    const r = await runSuite({ ...base, host: '127.0.0.1', port: srv.port, only: ['third-party'], probeAddress: other });
    expect(r.probeAddress).toBe(other);
    const [active, passive] = r.verdicts;
    expect(active).toMatchObject({ probe: 'third-party', mode: 'active', result: 'pass', why: '', classes: [null, null] });
    expect(active?.happened).toMatch(/^2 rounds: EPRT naming 127\.0\.0\.2:\d+: refused: 504 Data connections go to the client address only\.$/);
    expect(active?.correct).toMatch(/naming 127\.0\.0\.2 instead of the client: passed unchanged, no pinhole opened, and refused by the server as an FTP bounce/);
    expect(passive).toMatchObject({ mode: 'passive', result: 'skip', why: 'active only: PASV/EPSV name no address of the client\'s' });
    expect(exitCode(r)).toBe(0);
    expect(formatSuite(r)).toMatch(/^alg-suite 127\.0\.0\.1:\d+ \(probe address 127\.0\.0\.2\): /);
    // Not a third party, or not the control connection's family: skipped, with the reason.
    const why = async (probeAddress: string): Promise<string | undefined> =>
      (await runSuite({ ...base, host: '127.0.0.1', port: srv.port, only: ['third-party'], modes: ['active'], probeAddress })).verdicts[0]?.why;
    expect(await why('127.0.0.1')).toBe('--probe-address 127.0.0.1 is the client\'s own address or the one the server sees it as, not a third party');
    expect(await why('2001:db8::1')).toMatch(/^--probe-address 2001:db8::1 and the control connection differ in family/);
  }, 60_000);
});

describe('a server that lets an FTP bounce through (--allow-foreign-data)', () => {
  const srv = useServer({ allowForeignData: true }, '127.0.0.1');

  it('the third-party probe fails at the PORT, STAT naming where the server connects', async () => {
    const r = await runSuite({ ...base, host: '127.0.0.1', port: srv.port, only: ['third-party'], modes: ['active'], probeAddress: other });
    const v = r.verdicts[0];
    expect(v?.result).toBe('fail');
    // The first round (PORT) fails: the probe stops there.
    expect(v?.happened).toMatch(/^PORT naming 127\.0\.0\.2:(\d+): accepted: 200 PORT command successful\.; STAT: the server connects to 127\.0\.0\.2:\1$/);
    expect(v?.why).toBe('the server accepted a PORT naming 127.0.0.2, not the client: an FTP bounce let through (RFC 2577)');
    expect(exitCode(r)).toBe(1);
  }, 30_000);
});

/**
 * A userspace "FTP helper" that gets third parties wrong: it relays control
 * connections to `target` and rewrites each PORT/EPRT |1| naming `from` into
 * `to`, as a helper would that took any address in a PORT for the client's.
 */
async function rewritingRelay(target: number, from: string, to: string): Promise<{ port: number; close: () => Promise<void> }> {
  const open = new Set<net.Socket>();
  const prefixes = [
    [`PORT ${from.split('.').join(',')},`, `PORT ${to.split('.').join(',')},`],
    [`EPRT |1|${from}|`, `EPRT |1|${to}|`],
  ] as const;
  const rewrite = (line: string): string => {
    for (const [was, now] of prefixes) if (line.toUpperCase().startsWith(was)) return now + line.slice(was.length);
    return line;
  };
  const relay = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: target });
    let pending = '';
    client.setEncoding('latin1');
    client.on('data', (d: string) => {
      pending += d;
      for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
        upstream.write(rewrite(pending.slice(0, nl + 1)), 'latin1');
        pending = pending.slice(nl + 1);
      }
    });
    upstream.pipe(client);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => {
        open.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => relay.listen({ host: '127.0.0.1', port: 0 }, resolve));
  return {
    port: (relay.address() as net.AddressInfo).port,
    close: () => {
      for (const s of open) s.destroy();
      return new Promise((resolve) => relay.close(() => resolve()));
    },
  };
}

describe('a middlebox that rewrites a third-party address into the client\'s', () => {
  const srv = useServer({}, '127.0.0.1');
  let relay: Awaited<ReturnType<typeof rewritingRelay>> | undefined;
  beforeAll(async () => {
    relay = await rewritingRelay(srv.port, other, '127.0.0.1');
  });
  afterAll(async () => {
    await relay?.close();
  });

  it('the server accepts the rewritten PORT: the probe fails, naming the rewrite', async () => {
    const r = await runSuite({ ...base, host: '127.0.0.1', port: relay?.port ?? 0, only: ['third-party'], modes: ['active'], probeAddress: other });
    const v = r.verdicts[0];
    expect(v?.result).toBe('fail');
    expect(v?.happened).toMatch(/^PORT naming 127\.0\.0\.2:(\d+): accepted: 200 PORT command successful\.; STAT: the server connects to 127\.0\.0\.1:\1/);
    expect(v?.why).toBe('the middlebox rewrote 127.0.0.2 into 127.0.0.1, the address the server sees the client as: it treated a third party as the client');
    // The same relay passes the client's own PORT untouched: basic still passes through it.
    const basic = await runSuite({ ...base, host: '127.0.0.1', port: relay?.port ?? 0, only: ['basic'], file: srv.files.hello.path });
    expect(basic.failed, formatSuite(basic)).toBe(0);
  }, 30_000);
});

const ipv6 = await canListen('::1');
describe.skipIf(!ipv6)('alg-suite on ::1: EPRT |2| and EPSV', () => {
  const srv = useServer({}, '::1');

  it('every probe passes with EPRT and EPSV; the IPv4-only one is skipped', async () => {
    const r = await runSuite({ ...base, host: '::1', port: srv.port, file: srv.files.hello.path, rounds: 3, probeAddress: '2001:db8::1' });
    expect(r.failed, formatSuite(r)).toBe(0);
    expect(r.verdicts.filter((v) => v.result === 'skip').map((v) => `${v.probe} ${v.mode}`)).toEqual([
      'eprt-1 active', 'eprt-1 passive', 'unwatched-port active', 'unwatched-port passive', 'third-party passive',
    ]);
    // EPRT |2| naming a documentation address (never connected to): refused.
    expect(r.verdicts.find((v) => v.probe === 'third-party' && v.mode === 'active')?.happened).toMatch(
      /^EPRT naming \[2001:db8::1\]:\d+: refused: 504 Data connections go to the client address only\.$/,
    );
    expect(r.verdicts.find((v) => v.probe === 'eprt-2' && v.mode === 'active')?.happened).toMatch(/data from ::1/);
    expect(r.counts.active.activeAsSeen).toBe(10);
  }, 60_000);
});
