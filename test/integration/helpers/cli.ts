// The built CLI (dist/cli.js) for tests that run muxftpd as a child process:
// dist/ is rebuilt first when missing or older than src/.
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeRun, eventually, FtpControl, freePort, run, start, type Tracked } from './clients.js';

export const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const cli = path.join(repo, 'dist', 'cli.js');

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export async function ensureBuilt(): Promise<void> {
  if (existsSync(cli) && statSync(cli).mtimeMs >= newest(path.join(repo, 'src'))) return;
  const tsc = path.join(repo, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = await run(process.execPath, [tsc, '-p', path.join(repo, 'tsconfig.build.json')], { cwd: repo, timeoutMs: 120_000 });
  if (r.code !== 0) throw new Error(`building dist/ failed: ${r.stdout.toString()}${describeRun(r)}`);
}

/**
 * Starts `node <entry> args…` on a free loopback port and waits until it
 * greets. The port was free when freePort closed it, but it came from the
 * ephemeral range, where any test's outgoing connection may take it before
 * the child binds: a start that failed for that alone is tried again on
 * another port (bounded).
 */
export async function startCliAt(entry: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ proc: Tracked; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const proc = start(process.execPath, [entry, '--host', '127.0.0.1', '--port', String(port), ...args], { env });
    let exited = false;
    void proc.exited.then(() => (exited = true));
    const up = await eventually(async () => {
      if (exited) return true;
      const ctl = await FtpControl.connect('127.0.0.1', port, 1_000).catch(() => undefined);
      ctl?.destroy();
      return ctl !== undefined;
    }, 20_000, 100);
    if (up && !exited) return { proc, port };
    if (exited && attempt < 5 && proc.stderr().includes(`port ${port}: Address already in use`)) continue;
    throw new Error(`muxftpd did not come up on port ${port}: ${proc.stderr()}`);
  }
}
