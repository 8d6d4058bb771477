// muxftpd-bench alg-suite straight against the real server on loopback, no
// middlebox between: every probe in both modes must pass and every active
// data connection be classified activeAsSeen, with the bytes checked by sha256;
// the unwatched-port probe against a second server on the same root; EPRT
// |2| and EPSV over ::1. And the instrument must not lie the other way: a
// wrong expected PASV address fails exactly the probes that got a 227.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, startServer } from '../../src/index.js';
import { exitCode, formatSuite, runSuite, type SuiteOptions } from '../../bench/client/alg/suite.js';
import { probeNames } from '../../bench/client/alg/probes.js';
import { canListen } from './helpers/clients.js';
import { testDefaults, testLog, useServer } from './helpers/server.js';
import path from 'node:path';

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
    // Only the IPv6 probe is skipped on an IPv4 control connection.
    expect(r.verdicts.filter((v) => v.result === 'skip').map((v) => `${v.probe} ${v.mode}`)).toEqual(['eprt-2 active', 'eprt-2 passive']);
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
    expect(table).toMatch(/18 passed, 0 failed, 2 skipped/);
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
    expect(failed.map((v) => v.probe)).toEqual(probeNames.filter((p) => !['eprt-1', 'eprt-2', 'unwatched-port'].includes(p)));
    for (const v of failed) expect(v.why).toMatch(/the 227 carried 127\.0\.0\.1, expected 127\.0\.0\.9$/);
    expect(r.counts.pasvReply.unexpected).toBe(failed.length);
    expect(exitCode(r)).toBe(1);
  }, 60_000);
});

const ipv6 = await canListen('::1');
describe.skipIf(!ipv6)('alg-suite on ::1: EPRT |2| and EPSV', () => {
  const srv = useServer({}, '::1');

  it('every probe passes with EPRT and EPSV; the IPv4-only one is skipped', async () => {
    const r = await runSuite({ ...base, host: '::1', port: srv.port, file: srv.files.hello.path, rounds: 3 });
    expect(r.failed, formatSuite(r)).toBe(0);
    expect(r.verdicts.filter((v) => v.result === 'skip').map((v) => `${v.probe} ${v.mode}`)).toEqual([
      'eprt-1 active', 'eprt-1 passive', 'unwatched-port active', 'unwatched-port passive',
    ]);
    expect(r.verdicts.find((v) => v.probe === 'eprt-2' && v.mode === 'active')?.happened).toMatch(/data from ::1/);
    expect(r.counts.active.activeAsSeen).toBe(10);
  }, 60_000);
});
