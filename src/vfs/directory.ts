// Reading a directory for a listing, with fs.promises only (the main thread
// never blocks). A symlink whose target stays inside the session's root is
// shown as what it points to, so clients can follow it; one leading outside,
// or nowhere, is left out of the listing altogether.
import type { Stats } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { isInside } from './paths.js';

export interface DirEntry {
  name: string;
  stats: Stats;
}

/** The entries of directory `dir` (a real path inside `top`), sorted by name. */
export async function readEntries(dir: string, top: string): Promise<DirEntry[]> {
  const names = (await readdir(dir)).sort();
  const entries = await Promise.all(names.map((name) => entryOf(dir, name, top)));
  return entries.filter((e): e is DirEntry => e !== undefined);
}

async function entryOf(dir: string, name: string, top: string): Promise<DirEntry | undefined> {
  const full = path.join(dir, name);
  try {
    const own = await lstat(full);
    if (!own.isSymbolicLink()) return { name, stats: own };
    const target = await realpath(full);
    return isInside(top, target) ? { name, stats: await stat(target) } : undefined;
  } catch {
    // Gone since readdir, or a dangling link: not listed.
    return undefined;
  }
}
