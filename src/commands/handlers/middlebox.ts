// The commands of the middlebox test instrument (docs/middlebox.md): ESTA and
// ESTP as pure-ftpd has them (the data connection's endpoints as the server
// sees them), and HOST (RFC 7151).
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import { DataError, type DataEndpoints, type Endpoint } from '../../engine/engine.js';
import { FtpError } from '../../errors.js';
import { protocolOf, sameHost } from '../../protocol/address.js';
import { Code, type Reply, reply } from '../../protocol/replies.js';
import type { Session } from '../../session/session.js';
import type { CommandContext } from '../types.js';

/** (|1|addr|port|) or (|2|addr|port|): RFC 2428's notation, as pure-ftpd writes it. */
function extended(e: Endpoint): string {
  return `(|${protocolOf(e.address)}|${e.address}|${e.port}|)`;
}

async function endpoints(ctx: CommandContext): Promise<DataEndpoints> {
  try {
    return await ctx.engine.openData(ctx.session.sid);
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    throw new FtpError(Code.CantOpenData, "Can't open data connection.");
  }
}

/**
 * ESTA: after PORT/EPRT, connect now and tell the client where the server's
 * end of the data connection is (what a NAT between them made of it). The
 * next transfer uses that connection.
 */
export async function esta(ctx: CommandContext): Promise<Reply> {
  if (ctx.session.data.kind !== 'active') throw new FtpError(Code.NotInThisMode, 'ESTA needs active mode: send PORT or EPRT first.');
  const { local } = await endpoints(ctx);
  return reply(Code.DataOpenNoTransfer, `Connected from ${extended(local)}`);
}

/**
 * ESTP: after PASV/EPSV and the client's connect, tell the client where its
 * end of the data connection appears to come from, as the server sees it.
 */
export async function estp(ctx: CommandContext): Promise<Reply> {
  if (ctx.session.data.kind !== 'passive') throw new FtpError(Code.NotInThisMode, 'ESTP needs passive mode: send PASV or EPSV, then connect, first.');
  const { peer } = await endpoints(ctx);
  return reply(Code.DataOpenNoTransfer, `Connected to ${extended(peer)}`);
}

const afterLogin = reply(Code.BadSequence, 'HOST must come before the login.');

/** RFC 7151 3.1: HOST is for the start of a session; after a login it is a bad sequence. */
export function beforeLogin(s: Session): Reply | undefined {
  return s.loggedIn ? afterLogin : undefined;
}

/**
 * HOST lookups at once, over every session: a name resolves on libuv's
 * thread pool (getaddrinfo, which also reads /etc/hosts), and clients that
 * are not logged in must not be able to fill it.
 */
const maxLookups = 2;
let lookups = 0;

/** The addresses of this host's interfaces. */
function ownAddresses(): string[] {
  return Object.values(os.networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

async function resolvesToOwn(name: string, own: readonly string[]): Promise<boolean> {
  if (lookups >= maxLookups) return false;
  lookups += 1;
  try {
    const found = await lookup(name, { all: true });
    return found.some((a) => own.some((o) => sameHost(a.address, o)));
  } catch {
    return false;
  } finally {
    lookups -= 1;
  }
}

/**
 * HOST (RFC 7151): names the virtual host the client means. This server has
 * one: it accepts the addresses of its own interfaces (an IP literal, in
 * brackets or not), names that resolve to one of them, and --host-names.
 * A pending USER is forgotten: the login starts anew for that host (RFC 7151 3.1).
 */
export async function host(ctx: CommandContext, arg: string): Promise<Reply> {
  const name = arg.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const own = [ctx.session.local.address, ...ownAddresses()];
  const known =
    ctx.config.hostNames.includes(name) ||
    (net.isIP(name) !== 0 ? own.some((o) => sameHost(name, o)) : /^[a-z0-9.-]+$/.test(name) && (await resolvesToOwn(name, own)));
  if (!known) throw new FtpError(Code.NotImplementedForParam, 'Unknown host.');
  ctx.session.host = name;
  ctx.session.user = null;
  return reply(Code.ServiceReady, `Host ${name} accepted.`);
}
