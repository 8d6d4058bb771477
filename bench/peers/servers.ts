// Starting and stopping the servers of bench:compare (the rows of
// table.ts), one at a time, each on 127.0.0.1 only: its config file filled
// in and written to its state dir, its own session (setsid), stopped by pid.
// A scenario may start muxftpd with other worker threads or a narrower
// passive range (StartOptions.threads / pasvPorts); peers keep their own.

import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { findBinary, pasvRange, peers, type ServerName, type ServerSpec, type StartOptions } from './table.js';
import { fillIn, readConfig } from './templates.js';

export interface Launch {
  argv: string[];
  /** Files to write into the state dir before it starts, by name. */
  files: Record<string, string>;
}

/** The command line (and config files) of one server; exported for the tests. */
export function launch(name: ServerName, s: ServerSpec, o: StartOptions): Launch {
  const peer = peers[name];
  peer.prepare?.(o);
  const files: Record<string, string> = {};
  let config = '';
  if (peer.config) {
    const { file, as, values } = peer.config;
    const common = { PORT: String(s.port), PASV_MIN: String(s.pasvMin), PASV_MAX: String(s.pasvMax), ROOT: o.root, STATE_DIR: o.stateDir };
    files[as] = fillIn(readConfig(o.packageRoot, file), { ...common, ...values?.(o) }, file);
    config = path.join(o.stateDir, as);
  }
  // A missing program still shows where it was looked for first.
  const bin = findBinary(peer.binaries) ?? peer.binaries?.[0] ?? '';
  return { argv: peer.argv({ o, spec: s, bin, config, pasv: pasvRange(name, o) }), files };
}

/** First reply line on 127.0.0.1:port, or null. */
export async function banner(port: number, timeoutMs = 2000): Promise<string | null> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    const done = (v: string | null): void => {
      clearTimeout(t);
      sock.destroy();
      resolve(v);
    };
    const t = setTimeout(() => done(null), timeoutMs);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        sock.write('QUIT\r\n');
        done(buf.slice(0, nl).replace(/\r$/, ''));
      }
    });
    sock.on('error', () => done(null));
  });
}

export interface Running {
  name: ServerName;
  spec: ServerSpec;
  pid: number;
  argv: string[];
  log: string;
  /** Its passive port range, "min-max". */
  pasvPorts: string;
}

export async function startServer(name: ServerName, o: StartOptions): Promise<Running> {
  const spec = peers[name];
  if (await banner(spec.port, 500)) throw new Error(`${name}: port ${spec.port} already answers`);
  mkdirSync(o.stateDir, { recursive: true });
  const l = launch(name, spec, o);
  for (const [f, text] of Object.entries(l.files)) writeFileSync(path.join(o.stateDir, f), text);
  const log = path.join(o.stateDir, 'server.log');
  const fd = openSync(log, 'w');
  const [cmd, ...args] = l.argv as [string, ...string[]];
  const child = spawn(cmd, args, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${name}: could not start ${cmd}`);
  const running: Running = { name, spec, pid, argv: l.argv, log, pasvPorts: pasvRange(name, o) };
  for (let i = 0; i < 100; i++) {
    const b = await banner(spec.port, 500);
    if (b?.startsWith('220')) return running;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  await stopServer(running);
  let tail = '';
  try {
    tail = readFileSync(log, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    // no log
  }
  throw new Error(`${name} did not answer 220 on 127.0.0.1:${spec.port}\n${tail}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function sessionPids(sid: number): Promise<number[]> {
  const out: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = await readFile(`/proc/${name}/stat`, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      if (Number(f[3]) === sid) out.push(Number(name));
    } catch {
      // exited
    }
  }
  return out;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** TERM the leader, then TERM/KILL every process left in its session, each by pid. */
export async function stopServer(r: Running): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals): void => {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  };
  signal(r.pid, 'SIGTERM');
  for (let i = 0; i < 50 && alive(r.pid); i++) await sleep(100);
  for (const p of await sessionPids(r.pid)) signal(p, 'SIGTERM');
  await sleep(300);
  const left = await sessionPids(r.pid);
  if (alive(r.pid)) left.push(r.pid);
  for (const p of left) signal(p, 'SIGKILL');
  for (let i = 0; i < 50 && (await sessionPids(r.pid)).length > 0; i++) await sleep(100);
}
