// LIST, NLST, MLSD, MLST, and the listing lines STAT <path> shares. A listing
// is one engine file operation (the directory read beneath the session's
// directory) and is sent with the engine's buffer send.
import path from 'node:path';
import { FtpError } from '../../errors.js';
import { Code, multiline, type Reply, reply } from '../../protocol/replies.js';
import { factsLine } from '../../vfs/facts.js';
import type { Listing } from '../../vfs/files.js';
import { listingBody, longLine } from '../../vfs/listing.js';
import { isDirectory } from '../../vfs/stat-records.js';
import type { CommandContext } from '../types.js';
import { virtualOf } from './session-paths.js';
import { runTransfer } from './transfer.js';

const opening = reply(Code.FileStatusOk, 'Here comes the directory listing.');

export async function list(ctx: CommandContext, arg: string): Promise<Reply> {
  return sendListing(ctx, listLines(await listPath(ctx, arg), true));
}

export async function nlst(ctx: CommandContext, arg: string): Promise<Reply> {
  return sendListing(ctx, listLines(await listPath(ctx, arg), false));
}

/** RFC 3659 7.2: MLSD lists a directory, one fact line per entry; a file is refused with 501. */
export async function mlsd(ctx: CommandContext, arg: string): Promise<Reply> {
  const { self, entries } = await ctx.files.list(virtualOf(ctx, arg));
  if (!isDirectory(self)) throw new FtpError(Code.SyntaxErrorArgs, 'Not a directory; use MLST.');
  const s = ctx.session;
  return sendListing(ctx, entries.map((e) => factsLine({ name: e.name, stats: e }, s.facts, s.writable)));
}

/** RFC 3659 7.2: MLST gives the facts of one object on the control connection. */
export async function mlst(ctx: CommandContext, arg: string): Promise<Reply> {
  const target = virtualOf(ctx, arg);
  const stats = await ctx.files.stat(target);
  const line = factsLine({ name: target, stats }, ctx.session.facts, ctx.session.writable);
  return multiline(Code.FileActionOk, `Listing ${target}`, [line], 'End');
}

function sendListing(ctx: CommandContext, lines: readonly string[]): Promise<Reply> {
  const body = listingBody(lines);
  return runTransfer(ctx, opening, (opts) => ctx.engine.sendBuffer(ctx.session.sid, body, opts));
}

/** Clients send `ls` options (LIST -la, LIST -al dir): they are skipped, the rest is the path. */
export function listTarget(arg: string): string {
  return arg.replace(/^(?:-\S*(?:\s+|$))+/, '');
}

/** A listed path: what the client named, and what it holds. */
export interface Listed {
  virtual: string;
  listing: Listing;
}

/** What `arg` names, listed. */
export async function listed(ctx: CommandContext, arg: string): Promise<Listed> {
  const virtual = virtualOf(ctx, arg);
  return { virtual, listing: await ctx.files.list(virtual) };
}

/** The path of LIST/NLST: the argument as it is when it names something (a name with a leading dash), else without its options. */
function listPath(ctx: CommandContext, arg: string): Promise<Listed> {
  const bare = listTarget(arg);
  if (bare === arg) return listed(ctx, arg);
  return listed(ctx, arg).catch(() => listed(ctx, bare));
}

/** `ls -l` lines (long) or names of a directory's entries, or of one file. */
export function listLines({ virtual, listing }: Listed, long: boolean): string[] {
  const now = new Date();
  if (!isDirectory(listing.self)) {
    const name = path.posix.basename(virtual);
    return [long ? longLine({ name, stats: listing.self }, now) : name];
  }
  const { entries } = listing;
  return long ? entries.map((e) => longLine({ name: e.name, stats: e }, now)) : entries.map((e) => e.name);
}
