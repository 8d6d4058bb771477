// LIST, NLST, MLSD, MLST, and the listing lines STAT <path> shares. Listings
// are read with fs.promises and sent with the engine's buffer send.
import path from 'node:path';
import { FtpError } from '../../errors.js';
import { Code, multiline, type Reply, reply } from '../../protocol/replies.js';
import { type DirEntry, readEntries } from '../../vfs/directory.js';
import { factsLine } from '../../vfs/facts.js';
import { listingBody, longLine } from '../../vfs/listing.js';
import { fsError, type ResolvedPath, statOf } from '../../vfs/paths.js';
import type { CommandContext } from '../types.js';
import { pathOf, topOf } from './session-paths.js';
import { runTransfer } from './transfer.js';

const opening = reply(Code.FileStatusOk, 'Here comes the directory listing.');

export async function list(ctx: CommandContext, arg: string): Promise<Reply> {
  return sendListing(ctx, await listLines(ctx, await listPath(ctx, arg), true));
}

export async function nlst(ctx: CommandContext, arg: string): Promise<Reply> {
  return sendListing(ctx, await listLines(ctx, await listPath(ctx, arg), false));
}

/** RFC 3659 7.2: MLSD lists a directory, one fact line per entry; a file is refused with 501. */
export async function mlsd(ctx: CommandContext, arg: string): Promise<Reply> {
  const target = await pathOf(ctx, arg);
  if (!(await statOf(target.real)).isDirectory()) throw new FtpError(Code.SyntaxErrorArgs, 'Not a directory; use MLST.');
  const s = ctx.session;
  const entries = await readDir(ctx, target.real);
  return sendListing(ctx, entries.map((e) => factsLine(e, s.facts, s.writable)));
}

/** RFC 3659 7.2: MLST gives the facts of one object on the control connection. */
export async function mlst(ctx: CommandContext, arg: string): Promise<Reply> {
  const target = await pathOf(ctx, arg);
  const stats = await statOf(target.real);
  const line = factsLine({ name: target.virtual, stats }, ctx.session.facts, ctx.session.writable);
  return multiline(Code.FileActionOk, `Listing ${target.virtual}`, [line], 'End');
}

function sendListing(ctx: CommandContext, lines: readonly string[]): Promise<Reply> {
  const body = listingBody(lines);
  return runTransfer(ctx, opening, (opts) => ctx.engine.sendBuffer(ctx.session.sid, body, opts));
}

/** Clients send `ls` options (LIST -la, LIST -al dir): they are skipped, the rest is the path. */
export function listTarget(arg: string): string {
  return arg.replace(/^(?:-\S*(?:\s+|$))+/, '');
}

/** The path of LIST/NLST: the argument as it is when it names something (a name with a leading dash), else without its options. */
function listPath(ctx: CommandContext, arg: string): Promise<ResolvedPath> {
  const bare = listTarget(arg);
  if (bare === arg) return pathOf(ctx, arg);
  return pathOf(ctx, arg).catch(() => pathOf(ctx, bare));
}

/** `ls -l` lines (long) or names of a directory's entries, or of one file. */
export async function listLines(ctx: CommandContext, target: ResolvedPath, long: boolean): Promise<string[]> {
  const stats = await statOf(target.real);
  const now = new Date();
  if (!stats.isDirectory()) {
    const name = path.posix.basename(target.virtual);
    return [long ? longLine({ name, stats }, now) : name];
  }
  const entries = await readDir(ctx, target.real);
  return long ? entries.map((e) => longLine(e, now)) : entries.map((e) => e.name);
}

async function readDir(ctx: CommandContext, real: string): Promise<DirEntry[]> {
  try {
    return await readEntries(real, topOf(ctx));
  } catch (e) {
    throw fsError(e);
  }
}
