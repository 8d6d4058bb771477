// muxftpd-bench alg-suite's pure parts: the address codecs of the probes,
// the verdict and class of each kind of round (activeAsSeen, activeNotRewritten,
// activeRewrittenElsewhere; 227 as expected or not; ESTP from the control peer or
// elsewhere), the third-party probe's verdict (refused, accepted as a bounce,
// rewritten), a probe's verdict from its rounds, the class counts, the exit
// code, and the command line.
import { describe, expect, it } from 'vitest';
import { parseAlgCli } from '../../bench/client/alg/options.js';
import { countClasses, exitCode } from '../../bench/client/alg/suite.js';
import {
  eprtArgument,
  parseEpsvReply,
  parseExtendedAddress,
  parsePasvReply,
  parseStatActiveTarget,
  parseStatPeer,
  portArgument,
  showEndpoint,
} from '../../bench/client/alg/endpoints.js';
import {
  judgeActive,
  judgePassive,
  judgeProbe,
  judgeThirdParty,
  type RoundObservation,
  type SessionView,
  type ThirdPartyObservation,
} from '../../bench/client/alg/verdict.js';
import { BenchUsageError } from '../../bench/client/options.js';
import { activeClasses, passiveClasses } from '../../bench/client/alg/classes.js';
import { dataAddressClasses } from '../../src/ops/address-truth.js';

const direct: SessionView = { own: '127.0.0.1', server: '127.0.0.1', seenAs: '127.0.0.1' };
const natted: SessionView = { own: '10.239.100.2', server: '10.24.0.2', seenAs: '10.24.0.1' };
const bytes = { bytes: 5, sha256: 'ab' };
const expectBytes = { size: 5, sha256: 'ab' };
const done = { code: 226, text: '226 Transfer complete.' };

it('the client counts the server\'s classes, by the same names', () => {
  expect([...activeClasses, ...passiveClasses]).toEqual([...dataAddressClasses]);
});

describe('address codecs', () => {
  it('PORT and EPRT arguments', () => {
    expect(portArgument({ host: '10.239.100.2', port: 40001 })).toBe('10,239,100,2,156,65');
    expect(portArgument({ host: '::ffff:127.0.0.1', port: 1024 })).toBe('127,0,0,1,4,0');
    expect(() => portArgument({ host: '::1', port: 1024 })).toThrow(/IPv4/);
    expect(eprtArgument({ host: '10.0.0.1', port: 5000 })).toBe('|1|10.0.0.1|5000|');
    expect(eprtArgument({ host: '::1', port: 5000 })).toBe('|2|::1|5000|');
  });

  it('227 with and without parentheses, 229, and the 225 of ESTA/ESTP', () => {
    expect(parsePasvReply('227 Entering Passive Mode (10,24,0,2,156,65).')).toEqual({ host: '10.24.0.2', port: 40001 });
    expect(parsePasvReply('227 =10,24,0,2,156,65')).toEqual({ host: '10.24.0.2', port: 40001 });
    expect(parsePasvReply('227 Entering Passive Mode (10,24,0,256,1,1)')).toBeNull();
    expect(parsePasvReply('227 nothing')).toBeNull();
    expect(parseEpsvReply('229 Entering Extended Passive Mode (|||40001|)')).toBe(40001);
    expect(parseEpsvReply('229 (!!!2121!)')).toBe(2121);
    expect(parseEpsvReply('229 (|||0|)')).toBeNull();
    expect(parseExtendedAddress('225 Connected from (|1|10.24.0.2|20|)')).toEqual({ host: '10.24.0.2', port: 20 });
    expect(parseExtendedAddress('225 Connected to (|2|::1|4000|)')).toEqual({ host: '::1', port: 4000 });
    expect(parseExtendedAddress('225 Connected to (|1|not-an-ip|4000|)')).toBeNull();
  });

  it('the control peer from STAT', () => {
    expect(parseStatPeer(['211-FTP server status:', ' Connected to 10.24.0.1 port 40122', '211 End'])).toBe('10.24.0.1');
    expect(parseStatPeer(['211-status', '     Connected to ::ffff:127.0.0.1', '211 End'])).toBe('::ffff:127.0.0.1');
    expect(parseStatPeer(['211 no peer here'])).toBeNull();
  });
});

describe('active rounds', () => {
  it('data from the server, bytes right: activeAsSeen, pass', () => {
    const r: RoundObservation = { portReply: { code: 200, text: '200 PORT ok' }, dataPeer: '10.24.0.2', transferReply: done, received: bytes, expectBytes };
    expect(judgeActive(natted, r, null)).toMatchObject({ ok: true, cls: 'activeAsSeen' });
    expect(judgeActive(direct, { ...r, dataPeer: '127.0.0.1' }, null)).toMatchObject({ ok: true, cls: 'activeAsSeen' });
  });

  it('refused behind a NAT: activeNotRewritten, and the why says whose address went through', () => {
    const r: RoundObservation = { portReply: { code: 504, text: '504 Data connections go to the client address only.' }, dataPeer: null };
    const v = judgeActive(natted, r, null);
    expect(v).toMatchObject({ ok: false, cls: 'activeNotRewritten' });
    expect(v.why).toMatch(/^activeNotRewritten: .*10\.24\.0\.1.*10\.239\.100\.2/);
    // The refusal names the address the server got: ours → not rewritten; another → rewritten elsewhere.
    expect(judgeActive(natted, r, { host: '10.239.100.2', port: 4000 }).cls).toBe('activeNotRewritten');
    expect(judgeActive(natted, r, { host: '10.99.0.1', port: 4000 }).cls).toBe('activeRewrittenElsewhere');
  });

  it('refused without a NAT between: no class, the refusal is the why', () => {
    const v = judgeActive(direct, { portReply: { code: 504, text: '504 no' }, dataPeer: null }, null);
    expect(v).toMatchObject({ ok: false, cls: null });
    expect(v.why).toMatch(/refused the data address \(504\)/);
  });

  it('accepted but the connection never came: activeNotRewritten behind a NAT', () => {
    const v = judgeActive(natted, { portReply: { code: 200, text: '200 ok' }, dataPeer: null, transferReply: { code: 425, text: '425 no' } }, null);
    expect(v).toMatchObject({ ok: false, cls: 'activeNotRewritten' });
    expect(v.happened).toMatch(/no data connection; transfer answered 425/);
  });

  it('no reply to the PORT at all: the control connection stalled, no class', () => {
    const v = judgeActive(natted, { controlError: 'no reply in 3000 ms' }, null);
    expect(v).toMatchObject({ ok: false, cls: null });
    expect(v.why).toMatch(/stalled at the PORT/);
  });

  it('the earlier of two PORTs won: fail', () => {
    const r: RoundObservation = { portReply: { code: 200, text: '200 ok' }, dataPeer: null, earlierListenerUsed: true };
    expect(judgeActive(direct, r, null).why).toMatch(/earlier PORT won/);
  });

  it('data from another host than the server, wrong size, wrong bytes: fail with the reason', () => {
    const base: RoundObservation = { portReply: { code: 200, text: '200 ok' }, dataPeer: '10.24.0.2', transferReply: done, received: bytes, expectBytes };
    expect(judgeActive(natted, { ...base, dataPeer: '10.24.0.9' }, null).why).toMatch(/came from 10\.24\.0\.9, not from the server/);
    expect(judgeActive(natted, { ...base, received: { bytes: 4, sha256: 'ab' } }, null).why).toBe('4 bytes arrived, 5 expected');
    expect(judgeActive(natted, { ...base, received: { bytes: 5, sha256: 'cd' } }, null).why).toMatch(/sha256/);
    expect(judgeActive(natted, { ...base, transferReply: { code: 426, text: '426 aborted' } }, null).why).toMatch(/426/);
  });
});

describe('passive rounds', () => {
  const ok: RoundObservation = {
    pasvReply: { code: 227, text: '227 (10,24,0,2,156,65)' }, announced: '10.24.0.2', expected: '10.24.0.2',
    transferReply: done, received: bytes, expectBytes,
  };

  it('227 as expected, bytes right: pass; no ESTP, no class', () => {
    expect(judgePassive(natted, ok)).toMatchObject({ ok: true, cls: null, pasvClass: 'asExpected' });
  });

  it('ESTP names the control peer: passiveControlPeer; another address: passiveForeignRefused, fail', () => {
    expect(judgePassive(natted, { ...ok, estp: { host: '10.24.0.1', port: 5000 } })).toMatchObject({ ok: true, cls: 'passiveControlPeer' });
    const v = judgePassive(natted, { ...ok, estp: { host: '10.24.0.7', port: 5000 } });
    expect(v).toMatchObject({ ok: false, cls: 'passiveForeignRefused' });
    expect(v.why).toMatch(/^passiveForeignRefused: .*10\.24\.0\.7.*10\.24\.0\.1/);
  });

  it('a 227 with another address than expected: unexpected, fail', () => {
    const v = judgePassive(natted, { ...ok, announced: '10.24.0.99' });
    expect(v).toMatchObject({ ok: false, pasvClass: 'unexpected' });
    expect(v.why).toBe('the 227 carried 10.24.0.99, expected 10.24.0.2');
  });

  it('229 has no address to get wrong; refusals and connect failures say so', () => {
    expect(judgePassive(direct, { ...ok, pasvReply: { code: 229, text: '229 (|||4000|)' }, announced: null })).toMatchObject({ ok: true, pasvClass: 'asExpected' });
    expect(judgePassive(direct, { pasvReply: { code: 522, text: '522 use EPSV' } }).why).toMatch(/no passive address \(522\)/);
    expect(judgePassive(direct, { ...ok, connectError: 'data connect to x: ECONNREFUSED' }).why).toMatch(/could not be opened/);
  });
});

describe('third-party rounds (--probe-address)', () => {
  const named = { host: '192.0.2.1', port: 40001 };
  const sent: ThirdPartyObservation = { verb: 'PORT', named };
  const accepted = { code: 200, text: '200 PORT command successful.' };

  it('STAT\'s active target and endpoints as shown', () => {
    expect(parseStatActiveTarget(['211-muxftpd status:', ' Connected to 10.24.0.1 port 4000', ' Active mode, to 192.0.2.1 port 40001', '211 End of status'])).toEqual(named);
    expect(parseStatActiveTarget([' Active mode, to 2001:db8::1 port 21'])).toEqual({ host: '2001:db8::1', port: 21 });
    expect(parseStatActiveTarget([' Passive mode, port 4000'])).toBeNull();
    expect(showEndpoint(named)).toBe('192.0.2.1:40001');
    expect(showEndpoint({ host: '2001:db8::1', port: 21 })).toBe('[2001:db8::1]:21');
  });

  it('refused by the server: pass, the refusal shown', () => {
    const v = judgeThirdParty(natted, { ...sent, portReply: { code: 504, text: '504 Data connections go to the client address only.' } });
    expect(v).toEqual({ ok: true, cls: null, pasvClass: null, why: '', happened: 'PORT naming 192.0.2.1:40001: refused: 504 Data connections go to the client address only.' });
  });

  it('a refusal naming another address: the middlebox rewrote it, fail', () => {
    const v = judgeThirdParty(natted, { ...sent, portReply: { code: 504, text: '504 Refused (|1|10.24.0.1|40001|)' } });
    expect(v.ok).toBe(false);
    expect(v.why).toBe('the middlebox rewrote 192.0.2.1 into 10.24.0.1, the address the server sees the client as: it treated a third party as the client');
    // A refusal naming the address sent is a plain refusal.
    expect(judgeThirdParty(natted, { ...sent, portReply: { code: 504, text: '504 Refused (|1|192.0.2.1|40001|)' } }).ok).toBe(true);
  });

  it('accepted, STAT names the address sent: a bounce let through, where it connects said', () => {
    const v = judgeThirdParty(natted, { ...sent, portReply: accepted, target: named, dataPeer: null });
    expect(v.ok).toBe(false);
    expect(v.happened).toBe('PORT naming 192.0.2.1:40001: accepted: 200 PORT command successful.; STAT: the server connects to 192.0.2.1:40001');
    expect(v.why).toBe('the server accepted a PORT naming 192.0.2.1, not the client: an FTP bounce let through (RFC 2577)');
  });

  it('accepted, STAT names the NAT\'s address or another: rewritten, fail', () => {
    const v = judgeThirdParty(natted, { ...sent, portReply: accepted, target: { host: '10.24.0.1', port: 40001 }, dataPeer: null });
    expect(v.why).toMatch(/^the middlebox rewrote 192\.0\.2\.1 into 10\.24\.0\.1, the address the server sees the client as/);
    const w = judgeThirdParty(natted, { ...sent, portReply: accepted, target: { host: '10.24.0.77', port: 40001 }, dataPeer: null });
    expect(w.why).toBe('the middlebox rewrote 192.0.2.1 into 10.24.0.77');
  });

  it('accepted, the server\'s connection came back to the client: rewritten, fail', () => {
    const v = judgeThirdParty(natted, { ...sent, portReply: accepted, target: null, dataPeer: '10.24.0.2' });
    expect(v.happened).toMatch(/a data connection reached the client's own listener from 10\.24\.0\.2$/);
    expect(v.why).toBe('the middlebox rewrote 192.0.2.1: the server\'s data connection came back to the client');
  });

  it('accepted, the server does not say where: a bounce, or a rewrite when a NAT is between', () => {
    const direct1 = judgeThirdParty(direct, { ...sent, verb: 'EPRT', portReply: accepted, target: null, dataPeer: null });
    expect(direct1.why).toBe('the server accepted an EPRT naming 192.0.2.1, not the client: an FTP bounce let through (RFC 2577)');
    const nat = judgeThirdParty(natted, { ...sent, portReply: accepted, target: null, dataPeer: null });
    expect(nat.why).toMatch(/FTP bounce let through \(RFC 2577\) \(or the middlebox rewrote 192\.0\.2\.1 into 10\.24\.0\.1: the server does not say where it connects\)$/);
  });

  it('no reply: the command was dropped or held, fail', () => {
    const v = judgeThirdParty(natted, { ...sent, controlError: 'no reply in 3000 ms' });
    expect(v.ok).toBe(false);
    expect(v.happened).toBe('no reply to PORT naming 192.0.2.1:40001: no reply in 3000 ms');
    expect(v.why).toMatch(/stalled or broke at a PORT naming a third party/);
  });
});

describe('a probe over its rounds, the counts, the exit code', () => {
  const pass = { ok: true, cls: 'activeAsSeen' as const, pasvClass: null, happened: 'data', why: '' };
  const fail = { ok: false, cls: 'activeNotRewritten' as const, pasvClass: null, happened: '504', why: 'activeNotRewritten: …' };

  it('passes when every round passes; fails at the first failing round, naming it', () => {
    expect(judgeProbe('rounds', 'active', 'c', [pass, pass]).happened).toBe('2 rounds: data');
    const v = judgeProbe('rounds', 'active', 'c', [pass, pass, fail]);
    expect(v).toMatchObject({ result: 'fail', why: 'round 3 of 3: activeNotRewritten: …' });
    expect(v.classes).toEqual(['activeAsSeen', 'activeAsSeen', 'activeNotRewritten']);
    expect(judgeProbe('x', 'active', 'c', []).result).toBe('fail');
  });

  it('counts classes per mode; exit code 0 only without failures', () => {
    const verdicts = [
      judgeProbe('a', 'active', 'c', [pass, fail]),
      judgeProbe('b', 'passive', 'c', [{ ok: true, cls: 'passiveControlPeer', pasvClass: 'asExpected', happened: '', why: '' }]),
      judgeProbe('c', 'passive', 'c', [{ ok: false, cls: null, pasvClass: 'unexpected', happened: '', why: 'x' }]),
    ];
    const c = countClasses(verdicts);
    expect(c.active).toEqual({ activeAsSeen: 1, activeNotRewritten: 1, activeRewrittenElsewhere: 0 });
    expect(c.passive).toEqual({ 'passiveControlPeer': 1, 'passiveForeignRefused': 0 });
    expect(c.pasvReply).toEqual({ asExpected: 1, unexpected: 1 });
    expect(exitCode({ failed: 0 })).toBe(0);
    expect(exitCode({ failed: 2 })).toBe(1);
  });
});

describe('alg-suite command line', () => {
  it('defaults', () => {
    const { suite, json } = parseAlgCli(['--host', '10.24.0.2', '--port', '2121']);
    expect(json).toBe(false);
    expect(suite).toMatchObject({
      host: '10.24.0.2', port: 2121, user: 'anonymous', pass: 'bench@', splitAt: 9, splitPauseMs: 200,
      pauseMs: 2000, rounds: 10, timeoutMs: 10_000, modes: ['active', 'passive'],
    });
    expect(suite.unwatchedPort).toBeUndefined();
    expect(suite.expectPasvAddress).toBeUndefined();
    expect(suite.probeAddress).toBeUndefined();
  });

  it('every option', () => {
    const { suite, json } = parseAlgCli([
      '--host', '[::1]', '--port', '21', '--unwatched-port', '2122', '--expect-pasv-address', '203.0.113.5',
      '--user', 'u', '--pass', 'p', '--file', 'f.bin', '--verify-local', '/tmp/f.bin', '--probes', 'split,rounds',
      '--modes', 'active', '--split-at', '4', '--split-pause-ms', '0', '--pause', '0.5', '--rounds', '3',
      '--timeout', '2.5', '--probe-address', '[2001:db8::1]', '--json',
    ]);
    expect(json).toBe(true);
    expect(suite).toMatchObject({
      host: '::1', port: 21, unwatchedPort: 2122, expectPasvAddress: '203.0.113.5', user: 'u', pass: 'p',
      file: 'f.bin', verifyLocal: '/tmp/f.bin', only: ['split', 'rounds'], modes: ['active'], splitAt: 4,
      splitPauseMs: 0, pauseMs: 500, rounds: 3, timeoutMs: 2500, probeAddress: '2001:db8::1',
    });
  });

  it.each([
    [[], /needs --host/],
    [['--host', '10.0.0.1'], /needs --port/],
    [['--host', 'example.com', '--port', '21'], /--host: expected an IPv4 or IPv6 address/],
    [['--host', '10.0.0.1', '--port', '70000'], /--port: at most 65535/],
    [['--host', '10.0.0.1', '--port', '21', '--unwatched-port', '21'], /must differ/],
    [['--host', '10.0.0.1', '--port', '21', '--probes', 'split,nope'], /unknown probe 'nope'/],
    [['--host', '10.0.0.1', '--port', '21', '--modes', 'sideways'], /--modes/],
    [['--host', '10.0.0.1', '--port', '21', '--verify-local', '/x'], /needs --file/],
    [['--host', '10.0.0.1', '--port', '21', '--expect-pasv-address', 'nat.example'], /--expect-pasv-address/],
    [['--host', '10.0.0.1', '--port', '21', '--timeout', '0'], /--timeout/],
    [['--host', '10.0.0.1', '--port', '21', '--probe-address', '192.0.2.300'], /--probe-address: expected an IPv4 or IPv6 address, got '192\.0\.2\.300'/],
    [['--host', '10.0.0.1', '--port', '21', '--probe-address', 'bouncer.example'], /--probe-address: expected/],
    [['--host', '10.0.0.1', '--port', '21', '--bogus'], /bogus/],
  ])('%j is refused', (argv, message) => {
    expect(() => parseAlgCli(argv)).toThrow(BenchUsageError);
    expect(() => parseAlgCli(argv)).toThrow(message);
  });

  it('--help needs nothing else', () => {
    expect(parseAlgCli(['--help']).help).toBe(true);
  });
});
