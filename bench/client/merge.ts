// `muxftpd-bench merge a.json b.json …`: runs made side by side (several
// hosts started together with --start-at, or the summaries the Locust users
// of bench/locust/ write) combined into one report. Counts add up, the window
// is the longest run's, and every percentile, overall and per phase, comes
// from the runs' histograms merged bucket by bucket (mergeSummaries), never
// from averaging their percentiles. Unit-tested in test/unit/bench-merge.test.ts.

import { readFileSync } from 'node:fs';
import { buildReport, type FtploadSummary, mergeSummaries, type Report, round } from './report.js';

/** A run as merge reads it: a muxftpd-bench --json report (with its summary) or an ftpload summary line. */
export interface MergeInput {
  summary: FtploadSummary;
  processes: number;
  /** Unix seconds the run's load started (--json reports since --start-at). */
  startedAt?: number | undefined;
}

/** What merge adds to the report: how many runs, and how far apart they started. */
export interface MergedRuns {
  runs: number;
  /** The earliest start, unix seconds (null when no run recorded one). */
  firstStart: number | null;
  /** Latest start − earliest, seconds: how well the runs' clocks and --start-at agreed. */
  startSpreadS: number | null;
}

export function mergeRuns(inputs: readonly MergeInput[]): Report & { merged: MergedRuns } {
  if (inputs.length === 0) throw new Error('merge: no runs given');
  const summary = mergeSummaries(inputs.map((i) => i.summary));
  const report = buildReport(summary, inputs.reduce((n, i) => n + i.processes, 0));
  report.summary = summary;
  const starts = inputs.flatMap((i) => (i.startedAt === undefined ? [] : [i.startedAt]));
  const first = starts.length > 0 ? Math.min(...starts) : null;
  if (first !== null) report.startedAt = first;
  return {
    ...report,
    merged: {
      runs: inputs.length,
      firstStart: first,
      startSpreadS: first === null ? null : round(Math.max(...starts) - first, 3),
    },
  };
}

/** One file: a --json report (it must carry its summary) or an ftpload summary line. */
export function readRun(file: string): MergeInput {
  const j = JSON.parse(readFileSync(file, 'utf8')) as Partial<Report> & { type?: string };
  if (j.type === 'summary') return { summary: j as unknown as FtploadSummary, processes: 1 };
  if (j.summary === undefined) {
    throw new Error(`${file}: no summary (a muxftpd-bench --json report of a version that writes it, or an ftpload summary line)`);
  }
  return { summary: j.summary, processes: j.processes ?? 1, startedAt: j.startedAt };
}

export function mergeFiles(files: readonly string[]): Report & { merged: MergedRuns } {
  return mergeRuns(files.map(readRun));
}

/** The lines merge prints above the report. */
export function formatMerged(m: MergedRuns): string {
  const spread = m.startSpreadS === null ? 'start times not recorded' : `started within ${m.startSpreadS} s of each other`;
  return `merged  ${m.runs} runs, ${spread}`;
}
