#!/usr/bin/env node
// muxftpd-bench: the stress client. Socket work happens in ftpload (native
// epoll threads); this file only parses flags, shows progress and reports.

import type { LoadOptions } from './ftpload.js';
import { runFtpload } from './ftpload.js';
import { BenchUsageError, parseCli, usage } from './options.js';
import { algUsage, parseAlgCli } from './alg/options.js';
import { exitCode, formatSuite, runSuite } from './alg/suite.js';
import { phasesCompareFiles } from './phases.js';
import { probeSize } from './probe.js';
import { clockTicks } from './cpu.js';
import { treePss } from './pss.js';
import { threadCost } from './thread-cost.js';
import { formatThreadCost } from './thread-table.js';
import { sampleTree, type TreeSample } from './threads.js';
import { buildReport, formatReport, formatStatus, type FtploadProgress, type MemorySample, round } from './report.js';
import { formatMerged, mergeFiles } from './merge.js';
import { waitUntil } from './start-at.js';

/** Fills in the expected download sizes, asking the server (SIZE) when not told. */
export async function resolveSizes(o: LoadOptions, noProbe: boolean, warn: (s: string) => void): Promise<void> {
  if (noProbe) return;
  // The probe speaks clear text: not to an implicit FTPS port.
  if (o.tls === 'implicit') {
    if (o.file !== undefined && o.fileSize === undefined && o.fileLocal === undefined) {
      warn('--tls implicit: no SIZE probe in clear text; download sizes are not checked (give --file-size or --verify-local)');
    }
    return;
  }
  if (o.file !== undefined && o.fileSize === undefined && o.fileLocal === undefined) {
    const size = await probeSize(o.host, o.port, o.user, o.pass, o.file).catch(() => null);
    if (size === null) warn(`SIZE ${o.file} got no answer: download sizes are not checked`);
    else o.fileSize = size;
  }
  if (o.largeFile !== undefined && o.largeSize === undefined && o.largeLocal === undefined) {
    const size = await probeSize(o.host, o.port, o.user, o.pass, o.largeFile).catch(() => null);
    if (size !== null) o.largeSize = size;
  }
}

/** `muxftpd-bench alg-suite …`: the middlebox probes (bench/client/alg/). */
async function algSuite(argv: readonly string[]): Promise<number> {
  const cli = parseAlgCli(argv);
  if (cli.help) {
    process.stdout.write(algUsage);
    return 0;
  }
  const live = process.stderr.isTTY && !cli.json;
  const r = await runSuite(cli.suite, (v) => {
    if (live) process.stderr.write(`${v.probe} ${v.mode}: ${v.result}\n`);
  });
  process.stdout.write(cli.json ? `${JSON.stringify(r)}\n` : `${formatSuite(r)}\n`);
  return exitCode(r);
}

async function main(): Promise<number> {
  if (process.argv[2] === '--phases-compare') {
    const [a, b, ...rest] = process.argv.slice(3);
    if (a === undefined || b === undefined || rest.length > 0) {
      process.stderr.write('muxftpd-bench: --phases-compare takes two --json reports: A.json B.json\n');
      return 2;
    }
    process.stdout.write(`${phasesCompareFiles(a, b)}\n`);
    return 0;
  }
  if (process.argv[2] === 'merge') {
    const files = process.argv.slice(3).filter((a) => a !== '--json');
    if (files.length === 0 || files.some((f) => f.startsWith('-'))) {
      process.stderr.write('muxftpd-bench: merge takes --json reports (or ftpload summaries): merge a.json b.json ... [--json]\n');
      return 2;
    }
    const r = mergeFiles(files);
    if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(r)}\n`);
    else process.stdout.write(`${formatMerged(r.merged)}\n${formatReport(r)}\n`);
    return 0;
  }
  if (process.argv[2] === 'alg-suite') {
    try {
      return await algSuite(process.argv.slice(3));
    } catch (e) {
      if (!(e instanceof BenchUsageError)) throw e;
      process.stderr.write(`muxftpd-bench alg-suite: ${e.message}\n(see muxftpd-bench alg-suite --help)\n`);
      return 2;
    }
  }
  let cli;
  try {
    cli = parseCli(process.argv.slice(2));
  } catch (e) {
    if (e instanceof BenchUsageError) {
      process.stderr.write(`muxftpd-bench: ${e.message}\n(see muxftpd-bench --help)\n`);
      return 2;
    }
    throw e;
  }
  if (cli.help) {
    process.stdout.write(usage);
    return 0;
  }
  const o = cli.load;
  const warn = (s: string): void => {
    process.stderr.write(`muxftpd-bench: ${s}\n`);
  };
  await resolveSizes(o, cli.noProbe, warn);

  const live = process.stderr.isTTY && !cli.quiet && !cli.json;
  let baseline: MemorySample | undefined;
  let held: MemorySample | undefined;
  let heldSessions = 0;
  let sampling = false;
  let mostHeld = 0;
  let threadsBefore: TreeSample | undefined;
  if (cli.pid !== undefined) {
    baseline = await treePss(cli.pid);
    threadsBefore = await sampleTree(cli.pid);
  }
  let prev: FtploadProgress | null = null;
  const ac = new AbortController();
  const stop = (): void => ac.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (cli.startAt !== undefined) {
    const late = await waitUntil(cli.startAt, ac.signal);
    if (late > 0.1) warn(`--start-at: ${late.toFixed(3)} s late, started at once`);
  }
  const startedAt = Date.now() / 1000;
  const run = await runFtpload(
    o,
    (p) => {
      if (live) process.stderr.write(`\r\x1b[K${formatStatus(prev, p)}`);
      prev = p;
      // Sample while sessions are held, not while they close at the end.
      if (cli.pid !== undefined && !sampling && p.t <= o.duration - 0.2 && p.established >= mostHeld) {
        mostHeld = p.established;
        sampling = true;
        const sessions = p.established;
        void treePss(cli.pid)
          .then((m) => {
            held = m;
            heldSessions = sessions;
          })
          .finally(() => {
            sampling = false;
          });
      }
    },
    ac.signal,
  );
  const threadsAfter = cli.pid !== undefined ? await sampleTree(cli.pid) : undefined;
  if (live) process.stderr.write('\r\x1b[K');
  const memory = baseline && held ? { baseline, held, sessions: heldSessions } : undefined;
  const report = buildReport(run.summary, run.processes, memory);
  const cpu = threadsBefore && threadsAfter ? threadCost(threadsBefore, threadsAfter, report.ops, clockTicks()) : null;
  if (cpu) report.threadCpu = cpu;
  report.startedAt = round(startedAt, 3);
  if (cli.json) process.stdout.write(`${JSON.stringify({ ...report, summary: run.summary })}\n`);
  else process.stdout.write(`${formatReport(report)}\n${cpu ? `${formatThreadCost(cpu)}\n` : ''}`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`muxftpd-bench: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
