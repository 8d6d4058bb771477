// PASV, EPSV, PORT, EPRT: how the next transfer gets its data connection.
import { announcedPasvAddress } from '../../config/pasv-address.js';
import { isSessionGone } from '../../engine/engine.js';
import type { DataTruth } from '../../ops/address-truth.js';
import { FtpError } from '../../errors.js';
import {
  epsvTemplate,
  type HostPort,
  ipv4Of,
  parseEprtArg,
  parsePortArg,
  pasvTemplate,
  sameHost,
} from '../../protocol/address.js';
import { alreadySent, Code, formatReply, type Reply, reply } from '../../protocol/replies.js';
import type { CommandContext } from '../types.js';

/**
 * PASV announces an IPv4 address: the configured one, else the control
 * connection's local address. On an IPv6 control connection the passive
 * listener is IPv6 too, which PASV cannot express: 522 points to EPSV
 * (RFC 2428 2's reply for a protocol the server will not use; curl and lftp
 * send EPSV over IPv6 anyway).
 */
export function pasv(ctx: CommandContext): Reply {
  const s = ctx.session;
  const local = ipv4Of(s.local.address);
  if (local === undefined) throw new FtpError(Code.ProtocolNotSupported, 'PASV needs IPv4; use EPSV.');
  const announced = announcedPasvAddress(ctx.config, s.peer.address, local);
  const template = pasvTemplate(announced, ctx.config.pasvReplyStyle);
  return openPassive(ctx, 'PASV', announced, formatReply(template), alreadySent(template));
}

/** EPSV's reply depends on the delimiter setting only: formatted once per delimiter. */
const epsvReplies = new Map<string, { text: string; sent: Reply }>();

function epsvReplyFor(delimiter: string): { text: string; sent: Reply } {
  let r = epsvReplies.get(delimiter);
  if (r === undefined) {
    const template = epsvTemplate(delimiter);
    r = { text: formatReply(template), sent: alreadySent(template) };
    epsvReplies.set(delimiter, r);
  }
  return r;
}

/** EPSV argument: none, a protocol number, or ALL (RFC 2428 3, 4). */
export function epsvArg(arg: string): string | undefined {
  return /^(\d+|ALL)?$/i.test(arg) ? undefined : 'EPSV takes no argument, a protocol number, or ALL.';
}

export function epsv(ctx: CommandContext, arg: string): Reply {
  const s = ctx.session;
  if (arg.toUpperCase() === 'ALL') {
    s.epsvAll = true;
    return reply(Code.CommandOk, 'EPSV ALL ok.');
  }
  if (arg !== '' && Number(arg) !== s.protocol) throw unsupported(s.protocol);
  const r = epsvReplyFor(ctx.config.epsvDelimiter);
  // EPSV announces no address: the client connects to the control connection's.
  return openPassive(ctx, 'EPSV', s.local.address, r.text, r.sent);
}

export function port(ctx: CommandContext, arg: string): Reply {
  const target = parsePortArg(arg);
  if (target === undefined) throw new FtpError(Code.SyntaxErrorArgs, 'Syntax error in PORT address.');
  if (ctx.session.protocol !== 1) throw unsupported(ctx.session.protocol);
  setActive(ctx, target);
  return reply(Code.CommandOk, 'PORT command successful.');
}

export function eprt(ctx: CommandContext, arg: string): Reply {
  const target = parseEprtArg(arg);
  if (!target.ok && target.unsupported) throw unsupported(ctx.session.protocol);
  if (!target.ok) throw new FtpError(Code.SyntaxErrorArgs, 'Syntax error in EPRT argument.');
  if (target.family !== ctx.session.protocol) throw unsupported(ctx.session.protocol);
  setActive(ctx, target);
  return reply(Code.CommandOk, 'EPRT command successful.');
}

function bounce(ctx: CommandContext, text: string): FtpError {
  ctx.report('bounce');
  return new FtpError(Code.NotImplementedForParam, text);
}

/** RFC 2428 2: 522 names the protocol the server can use here. */
function unsupported(protocol: 1 | 2): FtpError {
  return new FtpError(Code.ProtocolNotSupported, `Network protocol not supported, use (${protocol}).`);
}

/** A new data setup replaces the previous one; a listener of the old one is dropped first. */
function dropPassive(ctx: CommandContext): void {
  if (ctx.session.data.kind === 'passive') ctx.engine.abort(ctx.session.sid);
  ctx.session.clearData();
}

/** Sent by the worker in place of the 229/227 when no listener opens (a port range used up, no fds). */
const passiveFailed = formatReply(reply(Code.CantOpenData, "Can't open passive connection."));

/**
 * Opens the listener. The worker answers: `template` (formatted) with the
 * port filled in once the listener is up (split in two writes when
 * --split-reply-verbs names `verb`), or the 425 when it cannot open one. So
 * the command's own answer is `sent`, the same reply marked as already
 * queued, at once: the next command need not wait for the listener, since the
 * worker takes the session's actions in order.
 */
function openPassive(ctx: CommandContext, verb: 'PASV' | 'EPSV', announced: string, template: string, sent: Reply): Reply {
  const s = ctx.session;
  dropPassive(ctx);
  // The port is known once the listener is up, before any client can connect to it.
  const truth: DataTruth = { mode: 'passive', announced: { host: announced, port: 0 }, classified: false };
  s.truth = truth;
  const setup = { kind: 'passive' as const, port: 0 };
  s.data = setup;
  const split = ctx.config.splitReplyVerbs.length > 0 && ctx.config.splitReplyVerbs.includes(verb);
  ctx.engine.listenPassive(s.sid, { template, failure: passiveFailed, split }, (port, errno) => {
    if (errno === 0) {
      setup.port = port;
      truth.announced = { host: announced, port };
      return;
    }
    if (s.data === setup) s.clearData();
    // A session that was gone (isSessionGone) is nothing wrong with the
    // server: clients that reset right after PASV cause hundreds of these
    // under load. The rest (a port range used up, no fds) are the server's own.
    const message = `session ${s.sid}: passive listener failed (errno ${-errno})`;
    if (isSessionGone(errno)) ctx.log.debug(message);
    else ctx.log.warn(message);
  });
  return sent;
}

/**
 * Active mode connects only back to the client itself, and not to a
 * privileged port: anything else would make this server an FTP bounce proxy
 * (RFC 2577 3). --allow-foreign-data lifts both checks (tests of middleboxes).
 * A refusal is reported, and counted as limits.bounce.
 */
function setActive(ctx: CommandContext, target: HostPort): void {
  ctx.session.truth = { mode: 'active', said: target, classified: false };
  const checked = !ctx.config.allowForeignData;
  if (checked && !sameHost(target.host, ctx.session.peer.address)) {
    throw bounce(ctx, 'Data connections go to the client address only.');
  }
  if (checked && target.port < 1024) throw bounce(ctx, 'Refusing a privileged data port.');
  dropPassive(ctx);
  const data = { kind: 'active', host: ipv4Of(target.host) ?? target.host, port: target.port } as const;
  ctx.session.data = data;
  ctx.engine.connectActive(ctx.session.sid, data.host, data.port);
}
