// One stats() for the server processes of --processes: their snapshots
// summed field by field (counts add up, nested ones too, such as limits and
// dataAddresses; per-worker lists are laid end to end, process by process).
import type { ServerStats } from '../server.js';

type Tree = number | string | boolean | null | undefined | Tree[] | { [key: string]: Tree };

function add(a: Tree, b: Tree): Tree {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (Array.isArray(a) && Array.isArray(b)) return [...a, ...b];
  if (isRecord(a) && isRecord(b)) {
    const out: Record<string, Tree> = { ...a };
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? add(out[k], v) : v;
    return out;
  }
  return a ?? b;
}

const isRecord = (t: Tree): t is { [key: string]: Tree } => typeof t === 'object' && t !== null && !Array.isArray(t);

export function mergeStats(all: readonly ServerStats[]): ServerStats | undefined {
  const [first, ...rest] = all;
  if (first === undefined) return undefined;
  let sum = first as unknown as Tree;
  for (const s of rest) sum = add(sum, s as unknown as Tree);
  // The open-file limit is each process's own, not a count: the smallest is what holds.
  return { ...(sum as unknown as ServerStats), fdLimit: Math.min(...all.map((s) => s.fdLimit)) };
}
