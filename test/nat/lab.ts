// Helpers for the NAT namespace test: the lab (test/nat/lab.sh) driven from
// TypeScript, muxftpd started inside the server namespace, and clients run
// inside the client namespace with `ip netns exec`.
//
// Every child process is killed by its pid at its deadline; every wait is
// bounded. Namespaces are named mxnat-<pid>-<tag>, so `lab.sh gc` can remove
// what a test run that died left behind.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { installed, missing, noneOf } from '../helpers/requires.js';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const labScript = fileURLToPath(new URL('./lab.sh', import.meta.url));
export const loadScript = fileURLToPath(new URL('./clients.py', import.meta.url));
export const cliPath = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

export type Firewall = 'nft' | 'iptables';

// ───────────────────────────── child processes ─────────────────────────────

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  /** stdout as bytes (downloads written to stdout). */
  stdoutBytes: Buffer;
  stderr: string;
  timedOut: boolean;
}

function killPid(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // Gone between the check and the kill.
  }
}

/** Runs a command to its end, or kills it (by pid) at the deadline. */
export function run(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killPid(child, 'SIGKILL');
    }, timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({
        code,
        signal,
        stdout: stdoutBytes.toString('utf8'),
        stdoutBytes,
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
  });
}

/** A run, described for an assertion message. */
export function explain(r: RunResult): string {
  const tail = (s: string): string => (s.length > 3000 ? '…' + s.slice(-3000) : s);
  return `exit ${r.code} signal ${r.signal}${r.timedOut ? ' (timed out)' : ''}\nstdout:\n${tail(r.stdout)}\nstderr:\n${tail(r.stderr)}`;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

// ───────────────────────────── can this machine run the lab? ─────────────────────────────

function firstLine(s: string | Buffer | null | undefined): string {
  return String(s ?? '').trim().split('\n')[0] ?? '';
}

export interface Probe {
  /** Why the test cannot run here; undefined when it can. */
  skip?: string;
  /** The firewall tool to build the main lab with. */
  fw: Firewall;
  /** Whether iptables (with the CT target) works as well, for the fallback test. */
  iptables: boolean;
}

/**
 * Whether the lab can run here, said once on stderr when it cannot. The
 * programs are checked by test/helpers/requires.ts (one line per missing
 * program, naming its package); then a probe namespace is created and
 * deleted, and the FTP conntrack helper is tried in it with nft and with
 * iptables. Synchronous: describe.skipIf needs the answer when the file is
 * collected.
 */
export function probe(): Probe {
  const no = (skip: string, told = false): Probe => {
    if (!told) console.warn(`NAT namespace test skipped: ${skip}`);
    return { skip, fw: 'nft', iptables: false };
  };
  if (process.platform !== 'linux') return no('network namespaces need Linux');
  // Both checks run, so that every missing program is named.
  if ([missing('ip', 'sysctl', 'curl', 'python3'), noneOf('nft', 'iptables')].includes(true)) return no('a program is missing', true);
  const nft = installed('nft');
  const ipt = installed('iptables');

  const ns = `mxnat-${process.pid}-probe`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8', timeout: 10_000 });
  if (add.status !== 0) {
    return no(`no rights to create network namespaces (ip netns add: ${firstLine(add.stderr) || add.error?.message})`);
  }
  try {
    const inNs = (cmd: string, args: string[], input?: string) =>
      spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', timeout: 10_000, input });
    const nftOk =
      nft &&
      inNs('nft', ['-f', '-'], 'table ip probe {\n ct helper ftp-probe {\n  type "ftp" protocol tcp\n  l3proto ip\n }\n}\n')
        .status === 0;
    const iptOk =
      ipt &&
      inNs('iptables', ['-w', '-t', 'raw', '-A', 'PREROUTING', '-p', 'tcp', '--dport', '2121', '-j', 'CT', '--helper', 'ftp'])
        .status === 0;
    if (!nftOk && !iptOk) {
      return no('the kernel offers no FTP conntrack helper to nft or iptables (nf_conntrack_ftp, nf_nat_ftp)');
    }
    return { fw: nftOk ? 'nft' : 'iptables', iptables: iptOk };
  } finally {
    spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
  }
}

export const benchCliPath = fileURLToPath(new URL('../../dist/bench/client/cli.js', import.meta.url));

/**
 * Builds dist/bench (muxftpd-bench) from the sources now: a test that runs it
 * in a namespace must run the code under test, not an older build.
 */
export async function buildBench(): Promise<void> {
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  const r = await run(process.execPath, [tsc, '-p', `${repoRoot}tsconfig.bench.json`], 180_000);
  if (r.code !== 0 || !existsSync(benchCliPath)) throw new Error(`building dist/bench failed: ${explain(r)}`);
}

/** Builds dist/ when missing (a checkout where `npm install` did not run prepare). */
export async function ensureBuilt(): Promise<void> {
  if (existsSync(cliPath)) return;
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  const r = await run(process.execPath, [tsc, '-p', `${repoRoot}tsconfig.build.json`], 180_000);
  if (r.code !== 0 || !existsSync(cliPath)) throw new Error(`building dist/ failed: ${explain(r)}`);
}

// ───────────────────────────── the lab ─────────────────────────────

export interface LabOptions {
  mode: 'snat' | 'dnat';
  fw: Firewall;
  helper: boolean;
  /** Control ports that get the helper (and, in dnat mode, the port forward). */
  ftpPorts: number[];
  /** Passive port range forwarded in dnat mode, "MIN-MAX". */
  forward: string;
  clientNet: string;
  serverNet: string;
}

export interface LabEnv {
  nsClient: string;
  nsNat: string;
  nsServer: string;
  clientAddr: string;
  serverAddr: string;
  /** The address clients dial (the server's in snat mode, the NAT's public one in dnat mode). */
  connectAddr: string;
  /** The client address the server sees. */
  seenAs: string;
  publicAddr: string;
}

/**
 * `SCRIPT -p PREFIX env` (a lab script's KEY=VALUE lines), as a getter that
 * throws on a key the script did not print.
 */
export async function readLabEnv(script: string, prefix: string): Promise<(key: string) => string> {
  const envRun = await run(script, ['-p', prefix, 'env'], 10_000);
  const vars = new Map<string, string>();
  for (const line of envRun.stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) vars.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return (k: string): string => {
    const v = vars.get(k);
    if (v === undefined) throw new Error(`${script} env: no ${k}\n${envRun.stdout}`);
    return v;
  };
}

/** Removes labs of test runs that died (their pid is gone). */
export async function collectStaleLabs(): Promise<void> {
  await run(labScript, ['gc'], 60_000);
}

export class Lab {
  private constructor(
    readonly prefix: string,
    readonly env: LabEnv,
  ) {}

  static async up(tag: string, opts: LabOptions): Promise<Lab> {
    const prefix = `mxnat-${process.pid}-${tag}`;
    const args = [
      '-p', prefix, 'up',
      '--mode', opts.mode,
      '--fw', opts.fw,
      '--ftp-port', opts.ftpPorts.join(','),
      '--forward', opts.forward,
      '--client-net', opts.clientNet,
      '--server-net', opts.serverNet,
    ];
    if (!opts.helper) args.push('--no-helper');
    const up = await run(labScript, args, 60_000);
    if (up.code !== 0) {
      await run(labScript, ['-p', prefix, 'down'], 60_000);
      throw new Error(`lab.sh up failed: ${explain(up)}`);
    }
    const get = await readLabEnv(labScript, prefix);
    return new Lab(prefix, {
      nsClient: get('LAB_NS_CLIENT'),
      nsNat: get('LAB_NS_NAT'),
      nsServer: get('LAB_NS_SERVER'),
      clientAddr: get('LAB_CLIENT_ADDR'),
      serverAddr: get('LAB_SERVER_ADDR'),
      connectAddr: get('LAB_CONNECT_ADDR'),
      seenAs: get('LAB_SEEN_AS'),
      publicAddr: get('LAB_PUBLIC_ADDR'),
    });
  }

  /** Runs a command inside the client namespace. */
  client(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
    return this.exec('client', cmd, args, timeoutMs);
  }

  /** Runs a command inside one of the lab's namespaces. */
  exec(where: 'client' | 'nat' | 'server', cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
    const ns = { client: this.env.nsClient, nat: this.env.nsNat, server: this.env.nsServer }[where];
    return run('ip', ['netns', 'exec', ns, cmd, ...args], timeoutMs);
  }

  async helper(on: boolean): Promise<void> {
    const r = await run(labScript, ['-p', this.prefix, 'helper', on ? 'on' : 'off'], 30_000);
    if (r.code !== 0) throw new Error(`lab.sh helper failed: ${explain(r)}`);
  }

  status(): Promise<RunResult> {
    return run(labScript, ['-p', this.prefix, 'status'], 30_000);
  }

  /** Deletes the namespaces (ending anything still inside them). Idempotent. */
  async down(): Promise<void> {
    const r = await run(labScript, ['-p', this.prefix, 'down'], 60_000);
    if (r.code !== 0) throw new Error(`lab.sh down failed: ${explain(r)}`);
  }
}

// ───────────────────────────── muxftpd in the server namespace ─────────────────────────────

export class Server {
  private readonly err: Buffer[] = [];
  private readonly out: Buffer[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(readonly child: ChildProcess) {
    child.stdout?.on('data', (c: Buffer) => this.out.push(c));
    child.stderr?.on('data', (c: Buffer) => this.err.push(c));
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => resolve({ code, signal }));
      child.once('error', () => resolve({ code: null, signal: null }));
    });
  }

  /**
   * `ip netns exec NS node dist/cli.js ARGS…`: ip execs the command, so the
   * child's pid is the server's own. Resolves once it says it is listening.
   */
  static async start(ns: string, args: readonly string[], timeoutMs = 20_000): Promise<Server> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, cliPath, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const server = new Server(child);
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const check = (): void => {
        if (server.stdout().includes('muxftpd listening on')) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      child.stdout?.on('data', check);
      void server.exited.then(() => {
        clearTimeout(timer);
        resolve(server.stdout().includes('muxftpd listening on'));
      });
    });
    if (!ready) {
      await server.stop();
      throw new Error(`muxftpd did not start in ${ns}:\nstdout: ${server.stdout()}\nstderr: ${server.stderr()}`);
    }
    return server;
  }

  stdout(): string {
    return Buffer.concat(this.out).toString('utf8');
  }

  stderr(): string {
    return Buffer.concat(this.err).toString('utf8');
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGTERM by pid, SIGKILL after 5 s; resolves with how it ended. */
  async stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    killPid(this.child, 'SIGTERM');
    const timer = setTimeout(() => killPid(this.child, 'SIGKILL'), 5_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
