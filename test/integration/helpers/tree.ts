// Directory trees for upload and mirror tests: a nested tree with names that
// trip clients up (spaces, UTF-8, leading dashes), and a digest of a tree
// (relative path → 'dir' or the file's sha256) to compare two trees by.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from './clients.js';

/** Relative paths of the tree's files, with their sizes. */
export const treeFiles: readonly (readonly [path: string, size: number])[] = [
  ['top.txt', 100],
  ['with space/inner file.txt', 5000],
  ['with space/deeper/zero.bin', 0],
  ['ünïcödé/日本語.txt', 3000],
  ['ünïcödé/-dash start.bin', 70_000],
  ['a/b/c/d/deep.bin', 300_000],
  ['-leading dir/x', 1],
];

/** Writes the tree (random contents) under `dir`, plus an empty directory. */
export async function makeTree(dir: string): Promise<void> {
  for (const [rel, size] of treeFiles) {
    await mkdir(path.join(dir, path.dirname(rel)), { recursive: true });
    await writeFile(path.join(dir, rel), randomBytes(size));
  }
  await mkdir(path.join(dir, 'empty dir'), { recursive: true });
}

/** relative path → 'dir' or sha256, for every entry under `dir` (symlinks are not followed). */
export async function treeDigest(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        out[child] = 'dir';
        await walk(child);
      } else if (e.isFile()) {
        out[child] = sha256(await readFile(path.join(dir, child)));
      } else {
        out[child] = 'other';
      }
    }
  };
  await walk('');
  return out;
}
