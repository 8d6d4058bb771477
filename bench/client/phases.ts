// Phase latency (issue 24): where a session's time goes, from ftpload's
// per-phase histograms (native/bench/ftpload/phases.h defines each phase and
// prints them under these names, in this order). Processes merge bucket by
// bucket (mergeHistograms), never by averaging percentiles. Unit-tested in
// test/unit/bench-phases.test.ts.

import { readFileSync } from 'node:fs';
import { type HistogramJson, mergeHistograms, percentile, round } from './histogram.js';

export const phaseNames = ['connect', 'banner', 'login', 'data_setup', 'first_byte', 'xfer_done', 'quit'] as const;
export type PhaseName = (typeof phaseNames)[number];

/** What each phase measures, for the tables. */
export const phaseTitles: Record<PhaseName, string> = {
  connect: 'TCP connect',
  banner: 'banner (connected → 220)',
  login: 'login (USER → 230)',
  data_setup: 'data setup (227/229 → connected; PORT/EPRT → accepted)',
  first_byte: 'first byte (RETR/STOR → first data byte)',
  xfer_done: 'transfer done (RETR/STOR → 226)',
  quit: 'QUIT (→ 221 or close)',
};

/** ftpload's "phases": a histogram per phase (absent from older builds). */
export type PhasesJson = Record<PhaseName, HistogramJson>;

export interface PhaseMs {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** The phases' p50/p99/max in ms, with how many times each was measured. */
export type PhaseTable = Record<PhaseName, PhaseMs>;

/** Each phase's histograms of the processes merged; undefined when no process had phases. */
export function mergePhases(ps: ReadonlyArray<PhasesJson | undefined>): PhasesJson | undefined {
  const have = ps.filter((p): p is PhasesJson => p !== undefined);
  if (have.length === 0) return undefined;
  const out = {} as PhasesJson;
  for (const name of phaseNames) out[name] = mergeHistograms(have.flatMap((p) => (p[name] ? [p[name]] : [])));
  return out;
}

export function phaseTable(p: PhasesJson): PhaseTable {
  const ms = (us: number): number => round(us / 1000, 3);
  const out = {} as PhaseTable;
  for (const name of phaseNames) {
    const h = p[name];
    out[name] = h
      ? { count: h.count, p50: ms(percentile(h, 0.5)), p99: ms(percentile(h, 0.99)), max: ms(h.max_us) }
      : { count: 0, p50: 0, p99: 0, max: 0 };
  }
  return out;
}

/** "p50 / p99 / max" in ms, or "—" for a phase never measured. */
export function formatPhase(p: PhaseMs | undefined): string {
  return p && p.count > 0 ? `${p.p50} / ${p.p99} / ${p.max}` : '—';
}

/** The text report's lines: one per phase measured. */
export function formatPhaseRows(t: PhaseTable): Array<[string, string]> {
  return phaseNames
    .filter((n) => t[n].count > 0)
    .map((n) => [`phase ${n}`, `p50 ${t[n].p50}  p99 ${t[n].p99}  max ${t[n].max} ms  (${t[n].count} measured)`]);
}

/**
 * Two runs' phases side by side (a markdown table): a direct run and one
 * through a NAT, say. `a` and `b` are muxftpd-bench --json reports; the last
 * column is b's p50 minus a's, the delay b adds to that phase.
 */
export function formatPhasesCompare(a: { label: string; phases: PhaseTable | undefined }, b: { label: string; phases: PhaseTable | undefined }): string {
  const lines = [
    `| phase (ms: p50 / p99 / max) | ${a.label} | ${b.label} | p50 ${b.label} − ${a.label} |`,
    '|---|---:|---:|---:|',
  ];
  for (const n of phaseNames) {
    const pa = a.phases?.[n];
    const pb = b.phases?.[n];
    const both = pa && pb && pa.count > 0 && pb.count > 0;
    const delta = both ? round(pb.p50 - pa.p50, 3) : null;
    lines.push(`| ${phaseTitles[n]} | ${formatPhase(pa)} | ${formatPhase(pb)} | ${delta === null ? '—' : `${delta > 0 ? '+' : ''}${delta}`} |`);
  }
  return lines.join('\n');
}

/** `muxftpd-bench --phases-compare A.json B.json`: reads two --json reports (the labels: their file names). */
export function phasesCompareFiles(fileA: string, fileB: string): string {
  const read = (f: string): { label: string; phases: PhaseTable | undefined } => {
    const r = JSON.parse(readFileSync(f, 'utf8')) as { phases?: PhaseTable };
    if (r.phases === undefined) throw new Error(`${f}: no phases (a muxftpd-bench --json report of a build that measures them)`);
    return { label: f.replace(/^.*\//, '').replace(/\.json$/, ''), phases: r.phases };
  };
  return formatPhasesCompare(read(fileA), read(fileB));
}
