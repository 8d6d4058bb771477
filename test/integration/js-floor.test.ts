// bench/js-floor.mjs, the do-least decider on the real engine (issue 22's
// floor of the JS thread's cost per op), must answer what ftpload's login,
// small and persistent scenarios send, or the floor it measures is of runs
// that failed. Driven by ftpload over loopback with a fixed count; every
// download's size is checked; SIGTERM stops it with exit code 0.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFtpload } from '../../bench/client/ftpload.js';
import { parseCli } from '../../bench/client/options.js';
import { buildReport } from '../../bench/client/report.js';
import { notBuilt } from '../helpers/requires.js';

const floorScript = path.resolve(import.meta.dirname, '../../bench/js-floor.mjs');

describe.skipIf(notBuilt('ftpload'))('bench/js-floor.mjs', () => {
  let root: string;
  let floor: ChildProcess;
  let port = 0;

  beforeAll(async () => {
    root = mkdtempSync(path.join(os.tmpdir(), 'js-floor-'));
    writeFileSync(path.join(root, 'small.bin'), Buffer.alloc(4096, 7));
    floor = spawn(process.execPath, [floorScript, '--host', '127.0.0.1', '--port', '0', '--root', root, '--threads', '1'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(floor.stdout!, 'data')) as [Buffer];
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(line.toString());
    expect(m, line.toString()).not.toBeNull();
    port = Number(m?.[1]);
  }, 20_000);

  afterAll(async () => {
    if (floor.exitCode === null) {
      floor.kill('SIGKILL');
      await once(floor, 'exit');
    }
    rmSync(root, { recursive: true, force: true });
  });

  const load = async (...args: string[]) => {
    const o = parseCli(['--host', '127.0.0.1', '--port', String(port), '--concurrency', '4', '--count', '40',
      '--duration', '20', '--timeout', '10', '--threads', '1', ...args]).load;
    return buildReport((await runFtpload(o)).summary);
  };

  it('answers login sessions', { timeout: 60_000 }, async () => {
    const r = await load('--scenario', 'login');
    expect(r.errors).toEqual({});
    expect(r.ops).toBeGreaterThanOrEqual(40);
  });

  it('serves whole files to new sessions and to open ones, over EPSV and PASV', { timeout: 60_000 }, async () => {
    for (const [scenario, mode] of [['small', 'epsv'], ['persistent', 'epsv'], ['persistent', 'pasv']] as const) {
      const r = await load('--scenario', scenario, '--mode', mode, '--file', 'small.bin', '--file-size', '4096');
      expect(r.errors, `${scenario} ${mode}`).toEqual({});
      expect(r.ops, `${scenario} ${mode}`).toBeGreaterThanOrEqual(40);
      expect(r.bytes, `${scenario} ${mode}`).toBe(r.ops * 4096);
    }
  });

  it('stops on SIGTERM with exit code 0', { timeout: 20_000 }, async () => {
    floor.kill('SIGTERM');
    const [code] = (await once(floor, 'exit')) as [number | null];
    expect(code).toBe(0);
  });
});
