// LIST and NLST (basic), and the listing lines STAT <path> shares.
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Code, type Reply, reply } from '../../protocol/replies.js';
import { longLine, type ListEntry, listingBody } from '../../vfs/listing.js';
import { fsError, resolvePath, statOf } from '../../vfs/paths.js';
import type { CommandContext } from '../types.js';
import { runTransfer } from './transfer.js';

const opening = reply(Code.FileStatusOk, 'Here comes the directory listing.');

export async function list(ctx: CommandContext, arg: string): Promise<Reply> {
  const body = listingBody(await listLines(ctx, listTarget(arg), true));
  return runTransfer(ctx, opening, () => ctx.engine.sendBuffer(ctx.session.sid, body));
}

export async function nlst(ctx: CommandContext, arg: string): Promise<Reply> {
  const body = listingBody(await listLines(ctx, listTarget(arg), false));
  return runTransfer(ctx, opening, () => ctx.engine.sendBuffer(ctx.session.sid, body));
}

/** Clients send `ls` options (LIST -la, LIST -al dir): they are skipped, the rest is the path. */
export function listTarget(arg: string): string {
  return arg.replace(/^(?:-\S*(?:\s+|$))+/, '');
}

/** `ls -l` lines (long) or names of a directory's entries, or of one file. */
export async function listLines(ctx: CommandContext, arg: string, long: boolean): Promise<string[]> {
  const target = await resolvePath(ctx.config.root, ctx.session.cwd, arg);
  const stats = await statOf(target.real);
  const now = new Date();
  if (!stats.isDirectory()) {
    const name = path.posix.basename(target.virtual);
    return [long ? longLine({ name, stats }, now) : name];
  }
  let names: string[];
  try {
    names = (await readdir(target.real)).sort();
  } catch (e) {
    throw fsError(e);
  }
  if (!long) return names;
  // Entries are lstat'ed: a symlink shows as 'l', and one leading outside the root reveals nothing.
  const entries = await Promise.all(
    names.map(async (name): Promise<ListEntry | undefined> => {
      const entryStats = await lstat(path.join(target.real, name)).catch(() => undefined);
      return entryStats === undefined ? undefined : { name, stats: entryStats };
    }),
  );
  return entries.filter((e): e is ListEntry => e !== undefined).map((e) => longLine(e, now));
}
