// The arithmetic of a benchmark report: merging ftpload summaries (several
// processes, several threads; their histograms in histogram.ts, their phases
// in phases.ts), rates, ratios and the text table. Pure functions,
// unit-tested in test/unit/bench-report.test.ts.

import { type HistogramJson, type LatencyMs, latencyMs, mergeHistograms, round } from './histogram.js';
import { formatPhaseRows, mergePhases, type PhasesJson, phaseTable, type PhaseTable } from './phases.js';
import type { ThreadCost } from './thread-cost.js';

export {
  emptyHistogram, type HistogramJson, type LatencyMs, latencyMs, mergeHistograms, percentile, round,
} from './histogram.js';

/** ftpload's `tls` object (null without --tls; absent from older builds). */
export interface FtploadTls {
  mode: string;
  version: string;
  /** The OpenSSL ftpload ran with. */
  library: string;
  /** Control connections' handshakes: each a full one (no resumption on control). */
  ctl_handshakes: number;
  data_handshakes: number;
  /** Data connections that resumed the FTP session's TLS session. */
  data_resumed: number;
  /** TLS sessions (TLS 1.3: tickets) the server issued. */
  sessions_issued: number;
}

export interface FtploadProgress {
  type: 'progress';
  t: number;
  open: number;
  established: number;
  ops: number;
  bytes: number;
  errors: number;
}

export interface FtploadSummary {
  type: 'summary';
  tag: string;
  scenario: string;
  mode: string;
  host: string;
  port: number;
  threads: number;
  concurrency: number;
  duration_s: number;
  count: number;
  elapsed_s: number;
  ops: number;
  ops_by_kind: Record<string, number>;
  bytes: number;
  sessions_started: number;
  sessions_ok: number;
  errors: Record<string, number>;
  aborted_at_end: number;
  /** Sessions cut at the end by the state they were in (older builds: absent). */
  aborted_by_state?: Record<string, number>;
  alive_at_end: number;
  max_established: number;
  verified_size: number;
  verified_checksum: number;
  fd_limit: number;
  /** passive: most sessions holding their data connection at once (older builds: absent). */
  max_data_held?: number;
  /** --max-data-setups: most data setups in flight at once (older builds: absent). */
  max_data_setups?: number;
  /** noop: NOOPs in flight per session. */
  pipeline?: number;
  /** The address every 227 was compared with (--expect-pasv-address, else --host; older builds: absent). */
  expect_pasv_address?: string;
  /** The address truth as the client saw it (docs/middlebox.md; older builds: absent). */
  address_truth?: AddressTruth;
  latency: HistogramJson;
  login_latency: HistogramJson;
  /** A histogram per phase of the sessions (bench/client/phases.ts; older builds: absent). */
  phases?: PhasesJson;
  tls?: FtploadTls | null;
}

/**
 * ftpload's address counts: 227s carrying the expected address or another
 * (a 229 carries none: expected), active data connections that came from the
 * server or from another host, PORT/EPRT refused (behind a NAT: the helper
 * left the client's own address in it, activeNotRewritten).
 */
export interface AddressTruth {
  pasvAsExpected: number;
  pasvUnexpected: number;
  activeAsSeen: number;
  activeFromElsewhere: number;
  activeRefused: number;
}

export interface MemorySample {
  /** Proportional set size of the server's process tree, KiB. */
  pssKiB: number;
  processes: number;
}

export interface Report {
  scenario: string;
  /** The server's CPU per operation by thread class (muxftpd-bench --pid; bench:compare for muxftpd). */
  threadCpu?: ThreadCost;
  mode: string;
  concurrency: number;
  processes: number;
  threads: number;
  elapsedS: number;
  ops: number;
  opsPerSec: number;
  bytes: number;
  /** Megabytes (10^6 bytes) per second. */
  mbPerSec: number;
  latencyMs: LatencyMs;
  loginLatencyMs: LatencyMs;
  /** p50/p99/max of each phase (absent from older ftpload builds). */
  phases?: PhaseTable;
  errors: Record<string, number>;
  errorTotal: number;
  sessionsStarted: number;
  abortedAtEnd: number;
  /** Sessions cut at the end, by the state they were in (e.g. greeting, xfer). */
  abortedByState: Record<string, number>;
  aliveAtEnd: number;
  maxEstablished: number;
  /** passive: most sessions holding an open data connection at once. */
  maxDataHeld: number;
  /** Most data setups in flight at once (a bound: the sum of each process's most). */
  maxDataSetups: number;
  verifiedSize: number;
  verifiedChecksum: number;
  /** The address truth (absent from older ftpload builds), and the 227 address expected. */
  addressTruth?: AddressTruth;
  expectPasvAddress?: string;
  /** --tls: what was negotiated and counted, with full handshakes per second. */
  tls?: {
    mode: string;
    version: string;
    library: string;
    fullHandshakes: number;
    fullHandshakesPerSec: number;
    dataHandshakes: number;
    dataResumed: number;
    sessionsIssued: number;
  };
  /** Unix seconds the load started (muxftpd-bench; merge: the earliest run's). */
  startedAt?: number;
  /** The merged ftpload summary, histograms and all: what `muxftpd-bench merge` adds up (--json reports). */
  summary?: FtploadSummary;
  memory?: {
    baselineKiB: number;
    heldKiB: number;
    processes: number;
    /** Sessions logged in when the held sample was taken. */
    sessions: number;
    /** (held - baseline) / sessions, KiB; null without sessions. */
    perSessionKiB: number | null;
  };
}

function addCounts(into: Record<string, number>, from: Record<string, number>): void {
  for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
}

/**
 * Merges the summaries of processes that ran side by side: counts add up, the
 * window is the longest one (they start together), and histograms merge.
 */
export function mergeSummaries(ss: readonly FtploadSummary[]): FtploadSummary {
  const first = ss[0];
  if (!first) throw new Error('mergeSummaries: no summary');
  const errors: Record<string, number> = {};
  const byKind: Record<string, number> = {};
  const cut: Record<string, number> = {};
  let r: FtploadSummary = { ...first, errors, ops_by_kind: byKind, aborted_by_state: cut };
  delete r.address_truth;
  r = {
    ...r,
    threads: 0, concurrency: 0, elapsed_s: 0, ops: 0, bytes: 0, sessions_started: 0,
    sessions_ok: 0, aborted_at_end: 0, alive_at_end: 0, max_established: 0, verified_size: 0,
    verified_checksum: 0, count: 0, max_data_held: 0, max_data_setups: 0,
  };
  for (const s of ss) {
    r.threads += s.threads;
    r.concurrency += s.concurrency;
    r.count += s.count;
    r.elapsed_s = Math.max(r.elapsed_s, s.elapsed_s);
    r.ops += s.ops;
    r.bytes += s.bytes;
    r.sessions_started += s.sessions_started;
    r.sessions_ok += s.sessions_ok;
    r.aborted_at_end += s.aborted_at_end;
    r.alive_at_end += s.alive_at_end;
    // Each process's maximum of its own sessions: their sum bounds the joint maximum.
    r.max_established += s.max_established;
    r.max_data_held = (r.max_data_held ?? 0) + (s.max_data_held ?? 0);
    r.max_data_setups = (r.max_data_setups ?? 0) + (s.max_data_setups ?? 0);
    r.verified_size += s.verified_size;
    r.verified_checksum += s.verified_checksum;
    addCounts(errors, s.errors);
    addCounts(byKind, s.ops_by_kind);
    addCounts(cut, s.aborted_by_state ?? {});
    if (s.address_truth) {
      const t = (r.address_truth ??= { pasvAsExpected: 0, pasvUnexpected: 0, activeAsSeen: 0, activeFromElsewhere: 0, activeRefused: 0 });
      for (const k of Object.keys(t) as Array<keyof AddressTruth>) t[k] += s.address_truth[k];
    }
  }
  const tls = ss.map((s) => s.tls).filter((t): t is FtploadTls => t != null);
  const firstTls = tls[0];
  r.tls = firstTls
    ? tls.slice(1).reduce((a, t) => ({
      ...a,
      ctl_handshakes: a.ctl_handshakes + t.ctl_handshakes,
      data_handshakes: a.data_handshakes + t.data_handshakes,
      data_resumed: a.data_resumed + t.data_resumed,
      sessions_issued: a.sessions_issued + t.sessions_issued,
    }), { ...firstTls })
    : null;
  r.latency = mergeHistograms(ss.map((s) => s.latency));
  r.login_latency = mergeHistograms(ss.map((s) => s.login_latency));
  const phases = mergePhases(ss.map((s) => s.phases));
  if (phases) r.phases = phases;
  else delete r.phases;
  return r;
}

/**
 * `memory.sessions`: sessions logged in when `held` was sampled (default: those
 * alive at the end); the growth over the baseline is divided by it.
 */
export function buildReport(
  s: FtploadSummary,
  processes = 1,
  memory?: { baseline: MemorySample; held: MemorySample; sessions?: number | undefined },
): Report {
  const elapsed = s.elapsed_s > 0 ? s.elapsed_s : 0;
  const errorTotal = Object.values(s.errors).reduce((a, b) => a + b, 0);
  const report: Report = {
    scenario: s.scenario,
    mode: s.mode,
    concurrency: s.concurrency,
    processes,
    threads: s.threads,
    elapsedS: round(elapsed, 3),
    ops: s.ops,
    opsPerSec: elapsed > 0 ? round(s.ops / elapsed, 1) : 0,
    bytes: s.bytes,
    mbPerSec: elapsed > 0 ? round(s.bytes / elapsed / 1e6, 1) : 0,
    latencyMs: latencyMs(s.latency),
    loginLatencyMs: latencyMs(s.login_latency),
    errors: { ...s.errors },
    errorTotal,
    sessionsStarted: s.sessions_started,
    abortedAtEnd: s.aborted_at_end,
    abortedByState: { ...(s.aborted_by_state ?? {}) },
    aliveAtEnd: s.alive_at_end,
    maxEstablished: s.max_established,
    maxDataHeld: s.max_data_held ?? 0,
    maxDataSetups: s.max_data_setups ?? 0,
    verifiedSize: s.verified_size,
    verifiedChecksum: s.verified_checksum,
  };
  if (s.phases) report.phases = phaseTable(s.phases);
  if (s.address_truth) report.addressTruth = { ...s.address_truth };
  if (s.expect_pasv_address !== undefined) report.expectPasvAddress = s.expect_pasv_address;
  if (s.tls) {
    // A data connection that did not resume was a full handshake too.
    const full = s.tls.ctl_handshakes + s.tls.data_handshakes - s.tls.data_resumed;
    report.tls = {
      mode: s.tls.mode,
      version: s.tls.version,
      library: s.tls.library,
      fullHandshakes: full,
      fullHandshakesPerSec: elapsed > 0 ? round(full / elapsed, 1) : 0,
      dataHandshakes: s.tls.data_handshakes,
      dataResumed: s.tls.data_resumed,
      sessionsIssued: s.tls.sessions_issued,
    };
  }
  if (memory) {
    const delta = memory.held.pssKiB - memory.baseline.pssKiB;
    const sessions = memory.sessions ?? s.alive_at_end;
    report.memory = {
      baselineKiB: memory.baseline.pssKiB,
      heldKiB: memory.held.pssKiB,
      processes: memory.held.processes,
      sessions,
      perSessionKiB: sessions > 0 ? round(delta / sessions, 1) : null,
    };
  }
  return report;
}

/** value / base, or null when either is missing or the base is zero. */
export function ratio(value: number | null | undefined, base: number | null | undefined): number | null {
  if (value == null || base == null || base === 0 || !Number.isFinite(value) || !Number.isFinite(base)) {
    return null;
  }
  return round(value / base, 2);
}

export function formatErrors(errors: Record<string, number>): string {
  const entries = Object.entries(errors).sort((a, b) => b[1] - a[1]);
  return entries.length === 0 ? 'none' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

/** The human table printed at the end of a run. */
export function formatReport(r: Report): string {
  const rows: Array<[string, string]> = [
    ['scenario', `${r.scenario} (${r.mode}), ${r.concurrency} sessions, ${r.threads} thread(s) in ${r.processes} process(es)`],
    ['elapsed', `${r.elapsedS.toFixed(3)} s`],
    ['operations', `${r.ops} (${r.opsPerSec.toFixed(1)} ops/s)`],
    ['transferred', `${(r.bytes / 1e6).toFixed(1)} MB (${r.mbPerSec.toFixed(1)} MB/s)`],
    ['latency ms', `p50 ${r.latencyMs.p50}  p90 ${r.latencyMs.p90}  p99 ${r.latencyMs.p99}  max ${r.latencyMs.max}`],
    ['login ms', `p50 ${r.loginLatencyMs.p50}  p99 ${r.loginLatencyMs.p99}  max ${r.loginLatencyMs.max}`],
    ...(r.phases ? formatPhaseRows(r.phases) : []),
    ['sessions', `${r.sessionsStarted} started, ${r.maxEstablished} most logged in at once, ${r.abortedAtEnd} cut at the end` +
      `${r.abortedAtEnd > 0 && Object.keys(r.abortedByState).length > 0 ? ` (${formatErrors(r.abortedByState)})` : ''}`],
    ['verified', `${r.verifiedSize} sizes, ${r.verifiedChecksum} checksums`],
    ['errors', `${r.errorTotal}: ${formatErrors(r.errors)}`],
  ];
  const t = r.addressTruth;
  if (t && t.pasvAsExpected + t.pasvUnexpected + t.activeAsSeen + t.activeFromElsewhere + t.activeRefused > 0) {
    rows.push([
      'addresses',
      `227/229 ${t.pasvAsExpected} as expected${r.expectPasvAddress ? ` (${r.expectPasvAddress})` : ''}, ${t.pasvUnexpected} unexpected; ` +
        `active: ${t.activeAsSeen} from the server, ${t.activeFromElsewhere} from elsewhere, ${t.activeRefused} PORT/EPRT refused`,
    ]);
  }
  if (r.tls) {
    rows.push(['tls', `${r.tls.mode}, TLS ${r.tls.version} (${r.tls.library}; certificate not verified): ` +
      `${r.tls.fullHandshakes} full handshakes (${r.tls.fullHandshakesPerSec.toFixed(1)}/s), ` +
      `${r.tls.dataResumed} of ${r.tls.dataHandshakes} data connections resumed, ${r.tls.sessionsIssued} sessions issued`]);
  }
  if (r.scenario === 'idle' || r.scenario === 'noop') rows.push(['alive at end', `${r.aliveAtEnd} of ${r.concurrency}`]);
  if (r.maxDataSetups > 0) rows.push(['data setups', `at most ${r.maxDataSetups} in flight at once (--max-data-setups)`]);
  if (r.scenario === 'passive') {
    rows.push(['passive', `${r.ops} of ${r.concurrency} sessions transferred; ${r.maxDataHeld} held a data connection at once`]);
  }
  if (r.memory) {
    rows.push([
      'server PSS',
      `${(r.memory.heldKiB / 1024).toFixed(1)} MiB held in ${r.memory.processes} process(es), ` +
        `${(r.memory.baselineKiB / 1024).toFixed(1)} MiB before; ` +
        `${r.memory.perSessionKiB === null ? 'n/a' : r.memory.perSessionKiB.toFixed(1)} KiB per session ` +
        `(${r.memory.sessions} sessions)`,
    ]);
  }
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n');
}

/** The live line: rates over the last tick. */
export function formatStatus(prev: FtploadProgress | null, cur: FtploadProgress): string {
  const dt = prev ? cur.t - prev.t : cur.t;
  const dOps = cur.ops - (prev?.ops ?? 0);
  const dBytes = cur.bytes - (prev?.bytes ?? 0);
  const ops = dt > 0 ? dOps / dt : 0;
  const mb = dt > 0 ? dBytes / dt / 1e6 : 0;
  return (
    `${cur.t.toFixed(1)}s  open ${cur.open}  logged-in ${cur.established}  ` +
    `${ops.toFixed(0)} ops/s  ${mb.toFixed(1)} MB/s  errors ${cur.errors}`
  );
}

/** Sums the latest progress line of each process. */
export function sumProgress(lines: readonly FtploadProgress[]): FtploadProgress {
  const r: FtploadProgress = { type: 'progress', t: 0, open: 0, established: 0, ops: 0, bytes: 0, errors: 0 };
  for (const p of lines) {
    r.t = Math.max(r.t, p.t);
    r.open += p.open;
    r.established += p.established;
    r.ops += p.ops;
    r.bytes += p.bytes;
    r.errors += p.errors;
  }
  return r;
}
