// Runs the native load generator once against 127.0.0.1 and returns its
// final summary line; rejects when it exits non-zero.
import { spawn } from 'node:child_process';
import { findBenchTool } from '../../../bench/client/ftpload.js';
import type { FtploadSummary } from '../../../bench/client/report.js';

export async function ftpload(args: string[]): Promise<FtploadSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(findBenchTool('ftpload'), ['--host', '127.0.0.1', '--progress-ms', '100', ...args]);
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`ftpload exit ${code}: ${err}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as FtploadSummary);
      } catch (e) {
        reject(new Error(`ftpload printed no summary (${(e as Error).message}): ${out.slice(-500)}`));
      }
    });
  });
}
