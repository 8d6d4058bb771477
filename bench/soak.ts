// Soak: runs muxftpd (dist/cli.js) as a child process and hammers it for a
// bounded time with everything at once: churn (connect and reset, some
// mid-transfer), slow clients (a byte a second, never reading replies, never
// reading data), whole downloads, and bad input. Prints the server's open
// fds, RSS and PSS after warm-up and again at the end, once the clients are
// gone: they should be back where they started. Not a test: run it by hand.
//
//   npm run build:ts && npm run build:bench && node dist/bench/soak.js --duration 60
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '30' }, clients: { type: 'string', default: '200' } },
});
const seconds = Number(values.duration);
const concurrency = Number(values.clients);
if (!(seconds > 0) || !(concurrency > 0)) throw new Error('usage: soak [--duration SECONDS] [--clients N]');

const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli.js');
const host = '127.0.0.1';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Usage {
  fds: number;
  rssKiB: number;
  pssKiB: number;
}

function usage(pid: number): Usage {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(rollup)?.[1] ?? NaN);
  return { fds: readdirSync(`/proc/${pid}/fd`).length, rssKiB: kib('Rss'), pssKiB: kib('Pss') };
}

function connect(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    s.once('connect', () => resolve(s)).once('error', reject);
  });
}

/** Sends lines and waits until `n` reply lines starting with a code and a space came back (or a deadline). */
async function exchange(s: net.Socket, lines: string, n: number): Promise<string> {
  let text = '';
  const got = new Promise<void>((resolve) => {
    const onData = (c: Buffer) => {
      text += c.toString('latin1');
      if ((text.match(/^\d{3} /gm) ?? []).length >= n) resolve();
    };
    s.on('data', onData).once('close', () => resolve());
  });
  s.write(lines);
  await Promise.race([got, sleep(10_000)]);
  return text;
}

async function download(reset: boolean): Promise<void> {
  const s = await connect();
  try {
    const text = await exchange(s, 'USER soak\r\nPASS soak\r\nTYPE I\r\nEPSV\r\n', 5);
    const m = /\(\|\|\|(\d+)\|\)/.exec(text);
    if (m === null) return;
    const data = net.connect({ host, port: Number(m[1]) });
    data.on('error', () => {});
    const done = new Promise((resolve) => data.once('close', resolve));
    s.write('RETR /soak.bin\r\n');
    if (reset) {
      await Promise.race([new Promise((resolve) => data.once('data', resolve)), sleep(5_000)]);
      data.resetAndDestroy();
    } else {
      data.resume();
      await Promise.race([done, sleep(20_000)]);
    }
  } finally {
    s.resetAndDestroy();
  }
}

const kinds: (() => Promise<void>)[] = [
  // churn: connect and vanish
  async () => {
    (await connect()).resetAndDestroy();
  },
  async () => {
    (await connect()).destroy();
  },
  // transfers, whole and reset mid-way
  () => download(false),
  () => download(true),
  // bad input
  async () => {
    const s = await connect();
    await exchange(s, `XYZZY\r\n${'A'.repeat(10_000)}\r\nRETR ../../etc/passwd\r\nPORT 10,0,0,1,0,21\r\n\0\xff\xfe\r\nQUIT\r\n`, 6);
    s.destroy();
  },
  async () => {
    const s = await connect();
    s.write(randomBytes(64 * 1024));
    await sleep(200);
    s.resetAndDestroy();
  },
  // slow: a byte a second (the login timeout closes it), never reading replies, never reading data
  async () => {
    const s = await connect();
    s.on('error', () => {});
    for (let i = 0; i < 6 && !s.destroyed; i++) {
      s.write('N');
      await sleep(1000);
    }
    s.destroy();
  },
  async () => {
    const s = await connect();
    s.pause();
    s.write('HELP\r\n'.repeat(50_000));
    await sleep(3000);
    s.destroy();
  },
  async () => {
    const s = await connect();
    const text = await exchange(s, 'USER slow\r\nPASS slow\r\nEPSV\r\n', 4);
    const m = /\(\|\|\|(\d+)\|\)/.exec(text);
    if (m !== null) {
      const data = net.connect({ host, port: Number(m[1]) });
      data.on('error', () => {});
      data.pause();
      s.write('RETR /soak.bin\r\n');
      await sleep(5000);
      data.destroy();
    }
    s.destroy();
  },
];

async function hammer(until: number): Promise<Record<string, number>> {
  const counts = { runs: 0, errors: 0 };
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      for (let i = worker; Date.now() < until; i += concurrency) {
        const kind = kinds[i % kinds.length];
        counts.runs += 1;
        await kind?.().catch(() => (counts.errors += 1));
      }
    }),
  );
  return counts;
}

async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen({ host, port: 0 }, resolve));
  const p = (srv.address() as net.AddressInfo).port;
  await new Promise((resolve) => srv.close(resolve));
  return p;
}

// Before each sample: slow clients are closed by the server's timeouts (5 s at
// most), and V8's memory reducer and the workers' malloc trim get their turn.
const settleMs = 15_000;

const root = mkdtempSync(path.join(os.tmpdir(), 'muxftpd-soak-'));
writeFileSync(path.join(root, 'soak.bin'), randomBytes(4 * 1024 * 1024));
const port = await freePort();
const args = ['--host', host, '--port', String(port), '--root', root, '--log-level', 'warn'];
// node's flags as `npm start` sets them (README, Operations).
const server: ChildProcess = spawn(process.execPath, ['--max-semi-space-size=4', cli, ...args, '--login-timeout', '3', '--idle-timeout', '5', '--data-timeout', '3'], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
try {
  const pid = server.pid ?? 0;
  for (let i = 0; i < 100; i++) {
    if (await connect().then((s) => (s.destroy(), true), () => false)) break;
    await sleep(100);
  }
  await hammer(Date.now() + 2_000);
  await sleep(settleMs);
  const start = usage(pid);
  console.log(`start:  fds ${start.fds}  rss ${start.rssKiB} KiB  pss ${start.pssKiB} KiB`);
  const counts = await hammer(Date.now() + seconds * 1000);
  await sleep(settleMs);
  const end = usage(pid);
  console.log(`end:    fds ${end.fds}  rss ${end.rssKiB} KiB  pss ${end.pssKiB} KiB  (${counts.runs} client runs, ${counts.errors} failed to connect or were cut)`);
  console.log(`change: fds ${end.fds - start.fds}  rss ${end.rssKiB - start.rssKiB} KiB  pss ${end.pssKiB - start.pssKiB} KiB`);
  process.exitCode = end.fds === start.fds ? 0 : 1;
} finally {
  if (server.pid !== undefined && server.exitCode === null) process.kill(server.pid, 'SIGTERM');
  rmSync(root, { recursive: true, force: true });
}
