// The arithmetic of a bench:compare result: the figure of each cell, the
// median round a row reads, each server's ratio to muxftpd (the base), the
// best peer and muxftpd ÷ best peer, their spread round by round, and the
// scaling ratio. Pure: unit-tested in test/unit/bench-report.test.ts.

import { ratio } from '../client/report.js';
import type { Cell, CompareResult } from './result.js';
import { type MatrixScenario, type Metric, reference } from './scenarios.js';

/** The figure a cell stands for, or null when the run produced none. */
export function cellValue(cell: Cell | undefined, metric: Metric): number | null {
  const r = cell?.report;
  if (!r) return null;
  // A rate needs something done: an operation, or for MB/s bytes moved
  // (100 streams of a large file may finish none within a short window).
  if (metric === 'opsPerSec' && r.ops === 0) return null;
  if (metric === 'mbPerSec' && r.bytes === 0) return null;
  if (metric === 'perSessionKiB') return r.memory?.perSessionKiB ?? null;
  return r[metric];
}

export function baseServer(result: CompareResult): string | undefined {
  const installed = result.servers.filter((s) => s.installed).map((s) => s.name);
  return installed.includes('muxftpd') ? 'muxftpd' : installed[0];
}

/** Higher is better after this: null (no figure) is the worst. */
function score(v: number | null, better: MatrixScenario['better']): number {
  if (v === null) return -Infinity;
  return better === 'lower' ? -v : v;
}

/** The scenario whose runs a row reads: its own, or for a derived row the one it comes from. */
function ranAs(result: CompareResult, scenario: string): string {
  return result.scenarios.find((s) => s.name === scenario)?.from ?? scenario;
}

/**
 * The cell a row reads (see ranAs). A scenario measured in several rounds
 * reads the round with the median figure (of two, the worse), so one noisy
 * run moves no row.
 */
export function findCell(result: CompareResult, server: string, scenario: string): Cell | undefined {
  const name = ranAs(result, scenario);
  const runs = result.cells.filter((c) => c.server === server && c.scenario === name);
  if (runs.length <= 1) return runs[0];
  const ran = result.scenarios.find((s) => s.name === name);
  if (!ran) return runs[0];
  const ranked = runs
    .map((c) => ({ c, s: score(cellValue(c, ran.metric), ran.better) }))
    .sort((a, b) => a.s - b.s);
  return ranked[Math.floor((ranked.length - 1) / 2)]?.c;
}

/** The rounds a scenario's cells were measured in, ascending. */
export function roundsOf(result: CompareResult, scenario: string): number[] {
  const name = ranAs(result, scenario);
  return [...new Set(result.cells.filter((c) => c.scenario === name).map((c) => c.round ?? 0))].sort((a, b) => a - b);
}

/** The run as if only one round of it had been measured. */
export function inRound(result: CompareResult, round: number): CompareResult {
  return { ...result, cells: result.cells.filter((c) => (c.round ?? 0) === round) };
}

/** The smallest and largest of a per-round figure, over the rounds that gave one; null with fewer than two. */
function spread(rounds: number[], of: (round: number) => number | null): { min: number; max: number } | null {
  const vals = rounds.map(of).filter((v): v is number => v !== null);
  return vals.length < 2 ? null : { min: Math.min(...vals), max: Math.max(...vals) };
}

/** Ratio of each server's figure to the base server's (muxftpd) for one scenario. */
export function ratios(result: CompareResult, scenario: MatrixScenario): Record<string, number | null> {
  const b = baseServer(result);
  const bv = b ? cellValue(findCell(result, b, scenario.name), scenario.metric) : null;
  const out: Record<string, number | null> = {};
  for (const s of result.servers) {
    out[s.name] = ratio(cellValue(findCell(result, s.name, scenario.name), scenario.metric), bv);
  }
  return out;
}

/** The best figure among the peers (every installed server but the base and the reference) in this run. */
export function bestPeer(result: CompareResult, sc: MatrixScenario): { server: string; value: number } | null {
  const b = baseServer(result);
  let best: { server: string; value: number } | null = null;
  for (const s of result.servers) {
    if (!s.installed || s.name === b || s.name === reference) continue;
    const v = cellValue(findCell(result, s.name, sc.name), sc.metric);
    if (v === null) continue;
    if (!best || (sc.better === 'lower' ? v < best.value : v > best.value)) best = { server: s.name, value: v };
  }
  return best;
}

/** The base server's (muxftpd's) figure ÷ the best peer's; null when either is missing. */
export function vsBestPeer(result: CompareResult, sc: MatrixScenario): number | null {
  const b = baseServer(result);
  const best = bestPeer(result, sc);
  if (!b || !best) return null;
  return ratio(cellValue(findCell(result, b, sc.name), sc.metric), best.value);
}

/** muxftpd ÷ best peer in each round on its own: how far one run could have moved the row. */
export function vsBestSpread(result: CompareResult, sc: MatrixScenario): { min: number; max: number } | null {
  return spread(roundsOf(result, sc.name), (r) => vsBestPeer(inRound(result, r), sc));
}

/** muxftpd --threads 2 ÷ --threads 1 on the same load (medians), and its range over the rounds; or null. */
export function scalingRatio(result: CompareResult): {
  t1: number | null; t2: number | null; ratio: number | null; spread: { min: number; max: number } | null;
} | null {
  const t1s = result.scenarios.find((s) => s.name === 'threads-1');
  const t2s = result.scenarios.find((s) => s.name === 'threads-2');
  if (!t1s && !t2s) return null;
  const of = (res: CompareResult): { t1: number | null; t2: number | null } => ({
    t1: t1s ? cellValue(findCell(res, 'muxftpd', 'threads-1'), t1s.metric) : null,
    t2: t2s ? cellValue(findCell(res, 'muxftpd', 'threads-2'), t2s.metric) : null,
  });
  const { t1, t2 } = of(result);
  const t1Rounds = roundsOf(result, 'threads-1');
  const rounds = roundsOf(result, 'threads-2').filter((r) => t1Rounds.includes(r));
  return {
    t1, t2, ratio: ratio(t2, t1),
    spread: spread(rounds, (r) => {
      const one = of(inRound(result, r));
      return ratio(one.t2, one.t1);
    }),
  };
}
