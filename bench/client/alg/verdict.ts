// What a probe's observations mean: the address class of each data
// connection and the probe's verdict (pass / fail / skip, and why). Pure
// functions over what the probe saw, unit-tested in test/unit/alg-verdict.test.ts.
import type { ActiveClass, AddressClass, PasvReplyClass, PassiveClass } from './classes.js';
import { type Endpoint, parseExtendedAddress, sameHost, showEndpoint } from './endpoints.js';

export type DataMode = 'active' | 'passive';

/** What the session around a probe knows about addresses. */
export interface SessionView {
  /** The client's end of the control connection (what PORT names before a NAT). */
  own: string;
  /** The server as the client dials it. */
  server: string;
  /** The control peer the server reports (STAT), null when it does not say. */
  seenAs: string | null;
}

/** One data connection of a probe (a probe may run several). */
export interface RoundObservation {
  /** active: the reply to the (last) PORT/EPRT. */
  portReply?: { code: number; text: string };
  /** active: who connected to the listener the last PORT named; null = nobody. */
  dataPeer?: string | null;
  /** active: the server connected to a listener of an earlier PORT instead. */
  earlierListenerUsed?: boolean;
  /** active: ESTA's answer, the server's end of the data connection. */
  esta?: Endpoint | null;
  /** passive: the 227/229 reply. */
  pasvReply?: { code: number; text: string };
  /** passive: the address announced in a 227 (a 229 has none: null). */
  announced?: string | null;
  /** passive: the address the client expected in a 227. */
  expected?: string;
  /** passive: why the data connect failed. */
  connectError?: string;
  /** passive: ESTP's answer, the client's end as the server sees it. */
  estp?: Endpoint | null;
  /** The reply ending the transfer (226), or the refusal of RETR/LIST. */
  transferReply?: { code: number; text: string };
  received?: { bytes: number; sha256: string };
  /** The bytes expected: size and sha256 when known. */
  expectBytes?: { size?: number | undefined; sha256?: string | undefined };
  /** The control connection failed (reset, timeout): the message. */
  controlError?: string;
}

export interface RoundVerdict {
  ok: boolean;
  cls: AddressClass | null;
  pasvClass: PasvReplyClass | null;
  /** Short: what happened. */
  happened: string;
  /** Empty when ok; else why it failed. */
  why: string;
}

const natBetween = (v: SessionView): boolean => v.seenAs !== null && !sameHost(v.seenAs, v.own);

function bytesProblem(r: RoundObservation): string | null {
  if (r.received === undefined) return 'no data received';
  const e = r.expectBytes;
  if (e?.size !== undefined && r.received.bytes !== e.size) {
    return `${r.received.bytes} bytes arrived, ${e.size} expected`;
  }
  if (e?.sha256 !== undefined && r.received.sha256 !== e.sha256) return 'the bytes differ from the expected (sha256)';
  return null;
}

function transferProblem(r: RoundObservation): string | null {
  const t = r.transferReply;
  if (t === undefined) return 'no reply ending the transfer';
  if (t.code !== 226 && t.code !== 250) return `transfer answered ${t.text}`;
  return bytesProblem(r);
}

/** The class of an active data connection, as far as the client can tell. */
export function activeClass(v: SessionView, r: RoundObservation, refused: Endpoint | null): ActiveClass | null {
  if (r.dataPeer) return 'activeAsSeen';
  if (!natBetween(v)) return null;
  if (refused !== null && !sameHost(refused.host, v.own)) return 'activeRewrittenElsewhere';
  return 'activeNotRewritten';
}

export function judgeActive(v: SessionView, r: RoundObservation, refused: Endpoint | null): RoundVerdict {
  if (r.controlError !== undefined && r.portReply === undefined) {
    // The server never answered the PORT: it may never have got it (a middlebox dropped or held it).
    return {
      ok: false, cls: null, pasvClass: null, happened: `no reply to PORT/EPRT: ${r.controlError}`,
      why: 'the control connection stalled at the PORT/EPRT: the middlebox dropped or held the command',
    };
  }
  const cls = activeClass(v, r, refused);
  const base = { cls, pasvClass: null };
  if (r.controlError !== undefined && !r.dataPeer) {
    return { ...base, ok: false, happened: `control connection failed: ${r.controlError}`, why: natWhy(v, cls, 'the control connection failed') };
  }
  const pr = r.portReply;
  if (pr !== undefined && pr.code >= 400) {
    return { ...base, ok: false, happened: `PORT/EPRT answered ${pr.text}`, why: natWhy(v, cls, `the server refused the data address (${pr.code})`) };
  }
  if (r.earlierListenerUsed) {
    return { ...base, ok: false, happened: 'the server connected to the earlier PORT\'s listener', why: 'the earlier PORT won: the later one must replace it' };
  }
  if (!r.dataPeer) {
    const t = r.transferReply;
    const what = t ? `no data connection; transfer answered ${t.text}` : 'no data connection';
    return { ...base, ok: false, happened: what, why: natWhy(v, cls, 'the server\'s data connection never reached us') };
  }
  const seen = `data from ${r.dataPeer}${r.esta ? ` (ESTA: server end ${r.esta.host}:${r.esta.port})` : ''}`;
  if (!sameHost(r.dataPeer, v.server)) {
    return { ...base, ok: false, happened: seen, why: `the data connection came from ${r.dataPeer}, not from the server (${v.server})` };
  }
  const p = transferProblem(r);
  if (p !== null) return { ...base, ok: false, happened: `${seen}; ${p}`, why: p };
  return { ...base, ok: true, happened: `${seen}, ${r.received?.bytes ?? 0} bytes verified`, why: '' };
}

/** The "why" of an active failure: the class named and explained when the client can tell. */
function natWhy(v: SessionView, cls: ActiveClass | null, what: string): string {
  switch (cls) {
    case 'activeNotRewritten':
      return `activeNotRewritten: ${what}; the server sees us as ${v.seenAs ?? '?'} but PORT carried our own ${v.own}, which the middlebox did not rewrite`;
    case 'activeRewrittenElsewhere':
      return `activeRewrittenElsewhere: ${what}; the address reached the server changed, but not to ${v.seenAs ?? '?'}`;
    default:
      return what;
  }
}

export function passiveClass(v: SessionView, r: RoundObservation): PassiveClass | null {
  if (!r.estp || v.seenAs === null) return null;
  return sameHost(r.estp.host, v.seenAs) ? 'passiveControlPeer' : 'passiveForeignRefused';
}

export function pasvReplyClass(r: RoundObservation): PasvReplyClass | null {
  if (r.announced === undefined || r.expected === undefined) return null;
  if (r.announced === null) return 'asExpected'; // 229: no address to get wrong
  return sameHost(r.announced, r.expected) ? 'asExpected' : 'unexpected';
}

export function judgePassive(v: SessionView, r: RoundObservation): RoundVerdict {
  const cls = passiveClass(v, r);
  const pasvClass = pasvReplyClass(r);
  const base = { cls, pasvClass };
  const pr = r.pasvReply;
  if (r.controlError !== undefined && pr === undefined) {
    return { ...base, ok: false, happened: `control connection failed: ${r.controlError}`, why: 'the control connection failed' };
  }
  if (pr !== undefined && pr.code !== 227 && pr.code !== 229) {
    return { ...base, ok: false, happened: `PASV/EPSV answered ${pr.text}`, why: `no passive address (${pr.code})` };
  }
  if (pasvClass === 'unexpected') {
    return { ...base, ok: false, happened: `227 announced ${r.announced ?? '?'}`, why: `the 227 carried ${r.announced ?? '?'}, expected ${r.expected ?? '?'}` };
  }
  if (r.connectError !== undefined) {
    return { ...base, ok: false, happened: r.connectError, why: 'the data connection could not be opened' };
  }
  if (r.controlError !== undefined) {
    return { ...base, ok: false, happened: `control connection failed: ${r.controlError}`, why: 'the control connection failed' };
  }
  const estp = r.estp ? ` (ESTP: server sees ${r.estp.host}:${r.estp.port})` : '';
  if (cls === 'passiveForeignRefused') {
    return {
      ...base, ok: false, happened: `data connection seen from ${r.estp?.host ?? '?'}${estp}`,
      why: `passiveForeignRefused: the server sees the data connection from ${r.estp?.host ?? '?'}, the control one from ${v.seenAs ?? '?'}`,
    };
  }
  const p = transferProblem(r);
  const announced = r.announced ? `227 ${r.announced}` : '229';
  if (p !== null) return { ...base, ok: false, happened: `${announced}${estp}; ${p}`, why: p };
  return { ...base, ok: true, happened: `${announced}${estp}, ${r.received?.bytes ?? 0} bytes verified`, why: '' };
}

/**
 * The third-party probe's round: a PORT/EPRT naming --probe-address (not the
 * client) and the port of a listener on the client's own address.
 */
export interface ThirdPartyObservation {
  /** PORT or EPRT, as sent. */
  verb: string;
  /** What the command named: --probe-address, and the port of the client's own listener. */
  named: Endpoint;
  /** The reply to it; undefined when none came. */
  portReply?: { code: number; text: string };
  /** Where the server says it connects (STAT "Active mode, to …") after accepting it; null when it does not say. */
  target?: Endpoint | null;
  /** Who connected to the client's own listener meanwhile; null = nobody. */
  dataPeer?: string | null;
  /** The control connection failed (reset, timeout): the message. */
  controlError?: string;
}

/**
 * A correct middlebox passes a PORT/EPRT naming a third party unchanged and
 * opens no pinhole for it (nf_conntrack_ftp: "NOT RECORDING", no
 * expectation), and the server refuses it as an FTP bounce (RFC 2577 3).
 * Accepted, it fails: rewritten (the address that reached the server is not
 * the one sent, by the refusal's words, by STAT, or because the server's
 * connection came back to the client), or a bounce let through.
 */
export function judgeThirdParty(v: SessionView, r: ThirdPartyObservation): RoundVerdict {
  const a = r.named.host;
  const sent = `${r.verb} naming ${showEndpoint(r.named)}`;
  const aVerb = `${/^E/i.test(r.verb) ? 'an' : 'a'} ${r.verb}`;
  const base = { cls: null, pasvClass: null };
  const pr = r.portReply;
  if (pr === undefined) {
    return {
      ...base, ok: false, happened: `no reply to ${sent}: ${r.controlError ?? 'no reply'}`,
      why: `the control connection stalled or broke at ${aVerb} naming a third party: a correct middlebox passes it unchanged for the server to refuse`,
    };
  }
  const into = (x: string): string =>
    `the middlebox rewrote ${a} into ${x}${v.seenAs !== null && sameHost(x, v.seenAs) ? ', the address the server sees the client as: it treated a third party as the client' : ''}`;
  if (pr.code >= 400) {
    const said = parseExtendedAddress(pr.text);
    if (said !== null && !sameHost(said.host, a)) {
      return { ...base, ok: false, happened: `${sent}: refused, naming ${showEndpoint(said)}: ${pr.text}`, why: into(said.host) };
    }
    return { ...base, ok: true, happened: `${sent}: refused: ${pr.text}`, why: '' };
  }
  const where = r.target ? `; STAT: the server connects to ${showEndpoint(r.target)}` : '';
  const accepted = `${sent}: accepted: ${pr.text}${where}`;
  if (r.target && !sameHost(r.target.host, a)) return { ...base, ok: false, happened: accepted, why: into(r.target.host) };
  if (r.dataPeer) {
    return {
      ...base, ok: false, happened: `${accepted}; a data connection reached the client's own listener from ${r.dataPeer}`,
      why: `the middlebox rewrote ${a}: the server's data connection came back to the client`,
    };
  }
  const unsure = !r.target && natBetween(v)
    ? ` (or the middlebox rewrote ${a} into ${v.seenAs ?? '?'}: the server does not say where it connects)`
    : '';
  return {
    ...base, ok: false, happened: accepted,
    why: `the server accepted ${aVerb} naming ${a}, not the client: an FTP bounce let through (RFC 2577)${unsure}`,
  };
}

export type Result = 'pass' | 'fail' | 'skip';

export interface Verdict {
  probe: string;
  mode: DataMode;
  /** What a correct middlebox does. */
  correct: string;
  result: Result;
  happened: string;
  why: string;
  /** One class per data connection attempted (null where the client cannot tell). */
  classes: Array<AddressClass | null>;
  pasvClasses: Array<PasvReplyClass | null>;
}

/** A probe's verdict from its rounds: it fails at its first failing round. */
export function judgeProbe(
  probe: string,
  mode: DataMode,
  correct: string,
  rounds: readonly RoundVerdict[],
  note = '',
): Verdict {
  const classes = rounds.map((r) => r.cls);
  const pasvClasses = rounds.map((r) => r.pasvClass);
  const n = rounds.length;
  const bad = rounds.findIndex((r) => !r.ok);
  const suffix = note ? `; ${note}` : '';
  if (n === 0) return { probe, mode, correct, result: 'fail', happened: 'nothing ran', why: 'no data connection attempted', classes, pasvClasses };
  if (bad < 0) {
    const last = rounds[n - 1] as RoundVerdict;
    return { probe, mode, correct, result: 'pass', happened: `${n > 1 ? `${n} rounds: ` : ''}${last.happened}${suffix}`, why: '', classes, pasvClasses };
  }
  const r = rounds[bad] as RoundVerdict;
  const where = n > 1 ? `round ${bad + 1} of ${n}: ` : '';
  return { probe, mode, correct, result: 'fail', happened: `${where}${r.happened}${suffix}`, why: `${where}${r.why}`, classes, pasvClasses };
}

export function skipped(probe: string, mode: DataMode, correct: string, why: string): Verdict {
  return { probe, mode, correct, result: 'skip', happened: 'not run', why, classes: [], pasvClasses: [] };
}
