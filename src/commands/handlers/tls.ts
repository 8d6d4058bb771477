// AUTH, PBSZ, PROT, CCC (RFC 2228, RFC 4217), and the checks --tls-required
// adds to logins and transfers. The engine does the TLS itself (start,
// clear, protected data connections); these decide when, and answer.
import { alreadySent, Code, type Reply, reply } from '../../protocol/replies.js';
import type { Session } from '../../session/session.js';
import type { CommandContext } from '../types.js';

const authOk = reply(Code.SecurityExchangeDone, 'AUTH TLS successful.');
const authSent = alreadySent(authOk);
/**
 * RFC 4217 4: a server without the mechanism answers AUTH 500 or 502; 502
 * ("not implemented", as every unknown verb here gets) lets a client with
 * TLS optional (curl --ssl, lftp's default) go on in clear.
 */
const noTls = reply(Code.NotImplemented, 'AUTH not available: this server has no TLS certificate (--tls-cert).');
/** RFC 2228 AUTH: 504, the mechanism is not supported. */
const unknownMechanism = reply(Code.NotImplementedForParam, 'AUTH mechanism not supported; use AUTH TLS.');
const authAgain = reply(Code.BadSequence, 'TLS is already on for this connection.');
const needsAuth = reply(Code.BadSequence, 'Send AUTH TLS first.');
const needsPbsz = reply(Code.BadSequence, 'Send PBSZ 0 first.');
const pbszOk = reply(Code.CommandOk, 'PBSZ=0');
const protClear = reply(Code.CommandOk, 'Protection level set to C (clear).');
const protPrivate = reply(Code.CommandOk, 'Protection level set to P (private).');
const protUnsupported = reply(Code.ProtLevelNotSupported, 'PROT S and E are not supported with TLS; use C or P.');
const protUnknown = reply(Code.NotImplementedForParam, 'Unknown protection level; use C or P.');
const cccOk = reply(Code.CommandOk, 'CCC successful: the control connection is clear from here.');
const cccSent = alreadySent(cccOk);
/** proftpd's answer: CCC has nothing to clear on a clear connection (RFC 2228: 533, protection level denied). */
const cccClear = reply(Code.ProtectionLevelDenied, 'CCC needs a TLS control connection.');
/** proftpd's answer under TLSRequired (RFC 2228: 534, denied for policy reasons). */
const cccRequired = reply(Code.PolicyDenied, 'CCC refused: this server requires TLS (--tls-required).');
/** vsftpd's answer to a login before AUTH under force_local_logins_ssl. */
const loginNeedsTls = reply(Code.NotLoggedIn, 'This server requires TLS: send AUTH TLS first.');
/** RFC 4217 9. */
const dataNeedsTls = reply(Code.DataProtectionRefused, 'This server requires PROT P for data connections.');

/** RFC 4217 4 (AUTH TLS), and AUTH SSL, the draft's older name that clients still send. */
export function auth(ctx: CommandContext, arg: string): Reply {
  const s = ctx.session;
  if (s.tlsOffer === 'off') return noTls;
  const mechanism = arg.toUpperCase();
  if (mechanism !== 'TLS' && mechanism !== 'SSL') return unknownMechanism;
  if (s.controlTls !== 'none') return authAgain;
  // The 234 goes out in clear, then the engine starts the handshake. Lines
  // that arrived in clear behind AUTH are never run (connection.ts), so none
  // can pass for one sent over TLS (the STARTTLS injection of CVE-2011-0411).
  ctx.send(authOk);
  s.controlTls = 'starting';
  ctx.engine.startTls(s.sid);
  return authSent;
}

/** RFC 4217 8: TLS has no protection buffer; any size asked is answered PBSZ=0 (RFC 2228: the size the server will use). */
export function pbszArg(arg: string): string | undefined {
  return /^\d{1,10}$/.test(arg) ? undefined : 'PBSZ needs a decimal size (0).';
}

export function pbsz(ctx: CommandContext): Reply {
  ctx.session.pbsz = true;
  return pbszOk;
}

/** RFC 4217 9: C or P; S and E have no meaning with TLS. */
export function prot(ctx: CommandContext, arg: string): Reply {
  const s = ctx.session;
  const level = arg.toUpperCase();
  if (level === 'S' || level === 'E') return protUnsupported;
  if (level !== 'C' && level !== 'P') return protUnknown;
  if (!s.pbsz) return needsPbsz;
  s.prot = level;
  ctx.engine.dataProtection(s.sid, level === 'P' ? 'private' : 'clear');
  return level === 'P' ? protPrivate : protClear;
}

/**
 * RFC 4217 6: the 200 goes out over TLS, then the engine exchanges
 * close_notify and the control connection is clear (a NAT's FTP helper can
 * read PORT and PASV again). Data protection (PROT) stays as it was.
 */
export function ccc(ctx: CommandContext): Reply {
  const s = ctx.session;
  if (s.controlTls !== 'on') return cccClear;
  if (s.tlsOffer === 'required') return cccRequired;
  ctx.send(cccOk);
  s.controlTls = 'cleared';
  ctx.engine.clearControl(s.sid);
  return cccSent;
}

/** PBSZ and PROT come after AUTH (RFC 4217 8, 9: 503 otherwise). */
export function needsTls(s: Session): Reply | undefined {
  return s.tlsDone ? undefined : needsAuth;
}

/** --tls-required: USER and PASS before AUTH get 530 (as vsftpd's force_local_logins_ssl). */
export function loginTls(s: Session): Reply | undefined {
  return s.tlsOffer === 'required' && !s.tlsDone ? loginNeedsTls : undefined;
}

/** --tls-required: a transfer on a clear data connection gets 521 (RFC 4217 9). */
export function dataTls(s: Session): Reply | undefined {
  return s.tlsOffer === 'required' && s.prot !== 'P' ? dataNeedsTls : undefined;
}

/** FEAT's AUTH line, only where TLS is offered (RFC 4217 6). */
export function tlsFeature(line: string): (s: Session) => string | undefined {
  return (s) => (s.tlsOffer === 'off' ? undefined : line);
}
