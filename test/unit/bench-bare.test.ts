// The reference server of bench:compare (native/bench/bare.cc) driven by
// ftpload over loopback: every load it is run with completes without errors
// and its downloads arrive with the right size and checksum, so its column
// in a comparison is a real figure. Speed is never asserted.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { notBuilt } from '../helpers/requires.js';
import { findBenchTool } from '../../bench/client/ftpload.js';
import type { FtploadSummary } from '../../bench/client/report.js';
import { ftpload } from './helpers/run-ftpload.js';

describe.skipIf(notBuilt('bare', 'ftpload'))('bare, the reference server', () => {
  const content = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 31) % 251));
  let dir = '';
  let local = '';
  let bare: ChildProcess | undefined;
  let port = 0;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'bench-bare-'));
    local = path.join(dir, 'small.bin');
    writeFileSync(local, content);
    bare = spawn(findBenchTool('bare'), ['--port', '0', '--file', local, '--pasv-ports', '31000-31099'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines = readline.createInterface({ input: bare.stdout! });
    for await (const line of lines) {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
      if (m) {
        port = Number(m[1]);
        break;
      }
    }
    expect(port).toBeGreaterThan(0);
  });
  afterAll(() => {
    if (bare?.pid) process.kill(bare.pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const run = (scenario: string, extra: string[]): Promise<FtploadSummary> =>
    ftpload(['--port', String(port), '--scenario', scenario, '--concurrency', '4', '--duration', '20', ...extra]);

  it('logs clients in and out', async () => {
    const s = await run('login', ['--count', '40']);
    expect(s.errors).toEqual({});
    expect(s.ops).toBe(40);
  });

  it('serves its one file, new session each and on open sessions, over EPSV and PASV, checksums right', async () => {
    for (const [scenario, mode] of [['small', 'epsv'], ['persistent', 'epsv'], ['persistent', 'pasv']] as const) {
      const s = await run(scenario, ['--count', '20', '--mode', mode, '--file', 'small.bin', '--file-local', local, '--checksum']);
      expect(s.errors).toEqual({});
      expect(s.ops).toBe(20);
      expect(s.bytes).toBe(20 * content.length);
      expect(s.verified_checksum).toBe(20);
    }
  });

  it('answers pipelined NOOPs', async () => {
    const s = await run('noop', ['--count', '200', '--pipeline', '8']);
    expect(s.errors).toEqual({});
    expect(s.ops).toBe(200);
  });
});
