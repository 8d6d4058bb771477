// A native loop that fails says so, and the server stops rather than serve
// part of its clients: in a child process, the worker's epoll fd is closed
// under it (nothing a client can do), a client connects to wake it, and the
// process logs the failure and ends with exit code 1.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { killChildren, start, withTimeout } from './helpers/clients.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const root = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-loop-'));

afterAll(async () => {
  killChildren();
  await rm(root, { recursive: true, force: true });
});

// The engine makes each worker's epoll fd in Engine::Start before the acceptor's.
const script = `
import { closeSync, readdirSync, readlinkSync } from 'node:fs';
import { startServer } from ${JSON.stringify(path.join(repo, 'dist', 'index.js'))};
const epolls = () => readdirSync('/proc/self/fd').filter((f) => {
  try { return readlinkSync('/proc/self/fd/' + f) === 'anon_inode:[eventpoll]'; } catch { return false; }
}).map(Number);
const before = epolls();
const server = await startServer({ host: '127.0.0.1', port: 0, threads: 1, root: process.argv[1], logFormat: 'json' });
const added = epolls().filter((f) => !before.includes(f)).sort((a, b) => a - b);
closeSync(added[0]);
process.stdout.write(server.address.port + '\\n');
`;

describe('a failed engine loop', () => {
  it('is logged, counted as fatal, and the process exits 1', async () => {
    const proc = start(process.execPath, ['--input-type=module', '-e', script, root]);
    const port = await withTimeout(
      new Promise<number>((resolve) => proc.child.stdout?.on('data', () => {
        const line = proc.stdout().toString().trim();
        if (line !== '') resolve(Number(line));
      })),
      15_000,
      'the child server to start',
    );
    const net = await import('node:net');
    const client = net.connect(port, '127.0.0.1');
    client.on('error', () => {});
    const exit = await withTimeout(proc.exited, 15_000, 'the child to exit after its worker loop failed');
    client.destroy();
    expect(exit, proc.stderr()).toEqual({ code: 1, signal: null });
    expect(proc.stderr()).toMatch(/the engine's worker 0 loop failed \((EBADF|EINVAL)\) and stopped/);
  });
});
