// Runs the native load generator (native/bench/ftpload.cc) as one or more
// child processes and collects their JSON lines. Several processes are only
// needed past one process's fd limit (an idle session holds one fd).

import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type FtploadProgress,
  type FtploadSummary,
  mergeSummaries,
  sumProgress,
} from './report.js';

export const scenarios = ['login', 'small', 'persistent', 'large', 'upload', 'idle', 'noop', 'passive', 'mixed'] as const;
export type Scenario = (typeof scenarios)[number];
export const dataModes = ['epsv', 'pasv', 'port', 'eprt'] as const;
export type DataMode = (typeof dataModes)[number];
/** FTPS (RFC 4217): explicit = AUTH TLS after the 220, implicit = TLS before it. */
export const tlsModes = ['explicit', 'implicit'] as const;
export type TlsMode = (typeof tlsModes)[number];
export const tlsVersions = ['1.2', '1.3'] as const;
export type TlsVersion = (typeof tlsVersions)[number];

export interface LoadOptions {
  scenario: Scenario;
  host: string;
  port: number;
  concurrency: number;
  duration: number;
  count?: number | undefined;
  threads: number;
  processes: number;
  user: string;
  pass: string;
  mode: DataMode;
  file?: string | undefined;
  fileSize?: number | undefined;
  fileLocal?: string | undefined;
  largeFile?: string | undefined;
  largeSize?: number | undefined;
  largeLocal?: string | undefined;
  checksum: boolean;
  uploadSize: number;
  uploadPrefix: string;
  filesPerSession: number;
  noopInterval: number;
  /** noop: NOOPs in flight per session (ftpload's default 16 when unset). */
  pipeline?: number | undefined;
  timeout: number;
  ramp: number;
  /** Data setups in flight at once over all processes (undefined: no limit). */
  maxDataSetups?: number | undefined;
  source?: string | undefined;
  mix?: string | undefined;
  progressMs: number;
  tag?: string | undefined;
  /** The address every 227 must carry (default: host); counted, see AddressTruth. */
  expectPasvAddress?: string | undefined;
  /** FTPS; absent = clear text. */
  tls?: TlsMode | undefined;
  /** The one TLS version offered (ftpload's default 1.3 when unset). */
  tlsVersion?: TlsVersion | undefined;
}

/**
 * Locates a native bench tool (ftpload, bare) built from native/bench: for
 * ftpload $FTPLOAD_BIN first, else the newer of node-gyp's build and the
 * Makefile's (`make -C native/bench` after an edit must win over an older
 * node-gyp build).
 */
export function findBenchTool(name: 'ftpload' | 'bare'): string {
  const env = name === 'ftpload' ? process.env['FTPLOAD_BIN'] : undefined;
  if (env) return env;
  const here = path.dirname(fileURLToPath(import.meta.url));
  // dist/bench/client/ or bench/client/ (vitest runs the sources)
  for (const up of ['../../..', '../..']) {
    const root = path.resolve(here, up);
    const found = [`build/Release/${name}`, `build/bench/${name}`]
      .map((rel) => path.join(root, rel))
      .filter((p) => existsSync(p))
      .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
    if (found[0]) return found[0];
  }
  const code = name === 'ftpload' ? 'MUXFTPD_ERR_NO_FTPLOAD' : 'MUXFTPD_ERR_NO_BARE';
  throw new Error(
    `${code}: the bench tool ${name} is not built; run \`npm install\` (node-gyp builds it) or \`make -C native/bench\``,
  );
}

function share(total: number, index: number, parts: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

/** The argv of process `index` of `processes`: sessions and --count are split evenly. */
export function ftploadArgs(o: LoadOptions, index = 0, processes = 1): string[] {
  const a = [
    '--host', o.host, '--port', String(o.port), '--scenario', o.scenario, '--mode', o.mode,
    '--concurrency', String(share(o.concurrency, index, processes)),
    '--threads', String(o.threads), '--duration', String(o.duration),
    '--user', o.user, '--pass', o.pass,
    '--upload-size', String(o.uploadSize), '--upload-prefix', o.uploadPrefix,
    '--files-per-session', String(o.filesPerSession),
    '--noop-interval', String(o.noopInterval), '--timeout', String(o.timeout),
    '--ramp', String(o.ramp), '--progress-ms', String(o.progressMs),
  ];
  if (o.count !== undefined) a.push('--count', String(share(o.count, index, processes)));
  if (o.pipeline !== undefined) a.push('--pipeline', String(o.pipeline));
  // parseCli requires N >= processes, so each share is at least 1 (ftpload's 0 would mean
  // no limit); the max guards a LoadOptions made by hand.
  if (o.maxDataSetups !== undefined) a.push('--max-data-setups', String(Math.max(1, share(o.maxDataSetups, index, processes))));
  if (o.file !== undefined) a.push('--file', o.file);
  if (o.fileSize !== undefined) a.push('--file-size', String(o.fileSize));
  if (o.fileLocal !== undefined) a.push('--file-local', o.fileLocal);
  if (o.largeFile !== undefined) a.push('--large-file', o.largeFile);
  if (o.largeSize !== undefined) a.push('--large-size', String(o.largeSize));
  if (o.largeLocal !== undefined) a.push('--large-local', o.largeLocal);
  if (o.checksum) a.push('--checksum');
  if (o.source !== undefined) a.push('--source', o.source);
  if (o.mix !== undefined) a.push('--mix', o.mix);
  if (o.tag !== undefined) a.push('--tag', o.tag);
  if (o.expectPasvAddress !== undefined) a.push('--expect-pasv-address', o.expectPasvAddress);
  if (o.tls !== undefined) a.push('--tls', o.tls);
  if (o.tls !== undefined && o.tlsVersion !== undefined) a.push('--tls-version', o.tlsVersion);
  return a;
}

export interface RunResult {
  summary: FtploadSummary;
  processes: number;
  argv: string[][];
}

/**
 * Spawns the processes, reports summed progress after every line, resolves
 * with the merged summary. Rejects if a process fails or prints no summary.
 */
export async function runFtpload(
  o: LoadOptions,
  onProgress?: (p: FtploadProgress) => void,
  signal?: AbortSignal,
): Promise<RunResult> {
  const bin = findBenchTool('ftpload');
  const procs = Math.max(1, Math.min(o.processes, o.concurrency));
  const latest: Array<FtploadProgress | undefined> = new Array(procs).fill(undefined);
  const argv: string[][] = [];
  const runs: Array<Promise<FtploadSummary>> = [];
  for (let i = 0; i < procs; i++) {
    const args = ftploadArgs(o, i, procs);
    argv.push([bin, ...args]);
    runs.push(
      new Promise<FtploadSummary>((resolve, reject) => {
        const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        const onAbort = (): void => {
          child.kill('SIGTERM');
        };
        signal?.addEventListener('abort', onAbort, { once: true });
        let summary: FtploadSummary | undefined;
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        const rl = readline.createInterface({ input: child.stdout });
        rl.on('line', (line) => {
          let msg: FtploadProgress | FtploadSummary;
          try {
            msg = JSON.parse(line) as FtploadProgress | FtploadSummary;
          } catch {
            return;
          }
          if (msg.type === 'progress') {
            latest[i] = msg;
            onProgress?.(sumProgress(latest.filter((p): p is FtploadProgress => p !== undefined)));
          } else if (msg.type === 'summary') {
            summary = msg;
          }
        });
        child.on('error', reject);
        child.on('close', (code, sig) => {
          signal?.removeEventListener('abort', onAbort);
          if (summary && code === 0) resolve(summary);
          else {
            reject(new Error(`ftpload exited with ${sig ?? code}${stderr ? `: ${stderr.trim()}` : ''}`));
          }
        });
      }),
    );
  }
  const summaries = await Promise.all(runs);
  return { summary: mergeSummaries(summaries), processes: procs, argv };
}
