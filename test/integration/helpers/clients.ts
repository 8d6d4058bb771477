// Clients for the integration tests: real FTP clients (curl, lftp, python3
// ftplib) run as child processes with a deadline, and a raw control-connection
// client over node:net for exact reply codes and hand-made bad input.
//
// Every child process is tracked and killed by its pid on timeout, and
// killChildren() ends whatever a failed test left behind. Every wait has a
// deadline: a hung server fails a test, it never hangs the run.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import net from 'node:net';

// ───────────────────────────── child processes ─────────────────────────────

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  stderr: string;
  /** The deadline passed and the process was killed. */
  timedOut: boolean;
}

export interface RunOptions {
  /** Deadline after which the process is killed with SIGKILL (default 20 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  input?: string | Buffer;
}

const liveChildren = new Set<ChildProcess>();

/** Sends `signal` to the child by its pid, if it is still running. */
export function killChild(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, signal);
  } catch {
    // Already gone between the check and the kill.
  }
}

/** Kills (by pid) every child process started by these helpers that is still running. */
export function killChildren(): void {
  for (const child of liveChildren) killChild(child);
}

/** A child process with its output collected and its end as a promise. */
export interface Tracked {
  child: ChildProcess;
  stdout(): Buffer;
  stderr(): string;
  /** Resolves when the process has exited and its output is closed. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const sanitizerVars = ['LD_PRELOAD', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'TSAN_OPTIONS'] as const;

/**
 * Under npm run test:asan or test:tsan, node runs with libasan or libtsan
 * preloaded (scripts/test-sanitized.sh) and loads the sanitized addon: a node
 * child (the CLI) needs the sanitizer's variables even when given a clean
 * environment, and no other child may have the runtime preloaded (curl and lftp
 * hang in setlocale with libasan). Without it, `env` is returned as it is.
 */
function childEnv(cmd: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!/lib[at]san/.test(process.env.LD_PRELOAD ?? '')) return env;
  if (cmd === process.execPath) {
    return { ...env, ...Object.fromEntries(sanitizerVars.flatMap((v) => (process.env[v] === undefined ? [] : [[v, process.env[v]]]))) };
  }
  const { LD_PRELOAD: _, ...rest } = env;
  return rest;
}

/** Starts a tracked child process; the caller must wait for it or kill it (killChildren in afterAll does). */
export function start(cmd: string, args: readonly string[], opts: Omit<RunOptions, 'timeoutMs'> = {}): Tracked {
  const env = childEnv(cmd, opts.env ?? process.env);
  const child = spawn(cmd, args, { cwd: opts.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  liveChildren.add(child);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => out.push(c));
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', (e) => {
      liveChildren.delete(child);
      reject(e);
    });
    child.once('close', (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal });
    });
  });
  // A child that exits before reading its stdin must not crash the test with EPIPE.
  child.stdin?.on('error', () => {});
  child.stdin?.end(opts.input);
  return {
    child,
    stdout: () => Buffer.concat(out),
    stderr: () => Buffer.concat(err).toString('utf8'),
    exited,
  };
}

/** Runs a command to its end, or kills it at the deadline. */
export async function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const t = start(cmd, args, opts);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killChild(t.child);
  }, opts.timeoutMs ?? 20_000);
  try {
    const { code, signal } = await t.exited;
    return { code, signal, stdout: t.stdout(), stderr: t.stderr(), timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** A one-line description of a run, for assertion messages. */
export function describeRun(r: RunResult): string {
  const tail = r.stderr.length > 2000 ? '…' + r.stderr.slice(-2000) : r.stderr;
  return `exit ${r.code} signal ${r.signal}${r.timedOut ? ' (timed out)' : ''}; stderr:\n${tail}`;
}

/** curl, silent but showing errors, with its own deadlines below the kill deadline; `input` is its stdin (-T -). */
export function curl(args: readonly string[], timeoutMs = 25_000, input?: Buffer): Promise<RunResult> {
  const seconds = String(Math.max(1, Math.floor(timeoutMs / 1000) - 2));
  return run('curl', ['-sS', '--connect-timeout', '5', '--max-time', seconds, ...args], { timeoutMs, input });
}

/** python3 -c script args… */
export function python(script: string, args: readonly string[], timeoutMs = 25_000): Promise<RunResult> {
  return run('python3', ['-c', script, ...args], { timeoutMs });
}

/** lftp -c with retries and timeouts bounded, so that a failure ends instead of retrying for minutes. */
export function lftp(commands: readonly string[], opts: { timeoutMs?: number; home: string }): Promise<RunResult> {
  const script = [
    'set cmd:fail-exit yes',
    'set net:max-retries 1',
    'set net:timeout 10',
    'set net:reconnect-interval-base 1',
    'set dns:fatal-timeout 5',
    'set xfer:clobber on',
    'set ftp:ssl-allow no',
    ...commands,
  ].join('; ');
  // HOME points at a temp directory: lftp keeps its history and bookmarks there.
  return run('lftp', ['-c', script], {
    timeoutMs: opts.timeoutMs ?? 25_000,
    env: { ...process.env, HOME: opts.home, LFTP_HOME: opts.home },
  });
}

// ───────────────────────────── small utilities ─────────────────────────────

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Rejects with a message naming `what` when `promise` is not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` until it returns true or the deadline passes; returns its last answer. */
export async function eventually(check: () => boolean | Promise<boolean>, ms: number, stepMs = 25): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A port that was free a moment ago on `host` (for the CLI, which needs one on its command line). */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether a socket can listen on `host` (e.g. '::1' on a host without IPv6). */
export function canListen(host: string): Promise<boolean> {
  return canListenOn(host, 0);
}

/** Whether a socket can listen on `host`:`port` right now (the port is free). */
export async function canListenOn(host: string, port: number): Promise<boolean> {
  const server = net.createServer();
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port }, resolve);
    });
    return true;
  } catch {
    return false;
  } finally {
    if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** host:port as a URL authority ('[::1]:21' for IPv6). */
export function authority(host: string, port: number): string {
  return net.isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

// ───────────────────────────── raw control client ─────────────────────────────

export interface FtpReply {
  code: number;
  /** Every line of the reply, without CRLF. */
  lines: string[];
  /** The text after the code on the first line. */
  text: string;
}

const defaultReplyMs = 10_000;

/**
 * One control connection, by hand. Lines are sent exactly as given (plus CRLF
 * for send()); replies are parsed per RFC 959 4.2, multi-line ones included.
 */
export class FtpControl {
  readonly socket: net.Socket;
  private buffered: Buffer = Buffer.alloc(0);
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  private socketError: Error | undefined;
  /** Resolves when the socket is fully closed (either side). */
  readonly closed: Promise<void>;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
      let lf: number;
      while ((lf = this.buffered.indexOf(0x0a)) !== -1) {
        let end = lf;
        if (end > 0 && this.buffered[end - 1] === 0x0d) end--;
        this.lines.push(this.buffered.subarray(0, end).toString('utf8'));
        this.buffered = this.buffered.subarray(lf + 1);
      }
      this.notify();
    });
    socket.on('end', () => {
      this.ended = true;
      this.notify();
    });
    socket.on('error', (e) => {
      this.socketError = e;
      this.ended = true;
      this.notify();
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('close', () => {
      this.ended = true;
      this.notify();
    });
  }

  /** A control client over a socket already connected (e.g. a TLS socket after AUTH TLS). */
  static over(socket: net.Socket): FtpControl {
    return new FtpControl(socket);
  }

  /**
   * Hands the socket over (to tls.connect, after AUTH TLS): this client stops
   * listening to it and must not be used again. Throws if replies were left
   * unread, which would be lost.
   */
  detach(): net.Socket {
    if (this.lines.length > 0 || this.buffered.length > 0) throw new Error('detach with unread replies');
    for (const event of ['data', 'end', 'error', 'close'] as const) this.socket.removeAllListeners(event);
    return this.socket;
  }

  /** Connects (from the address `from`, when given) and reads the greeting, which must be 220. */
  static async connect(host: string, port: number, timeoutMs = 5_000, from?: string): Promise<FtpControl> {
    const ctl = await FtpControl.open(host, port, timeoutMs, from);
    const greeting = await ctl.reply(timeoutMs);
    if (greeting.code !== 220) {
      ctl.destroy();
      throw new Error(`greeting was ${greeting.lines.join(' / ')}`);
    }
    return ctl;
  }

  /** Connects without reading anything (from the address `from`, when given: any 127/8 address on Linux). */
  static open(host: string, port: number, timeoutMs = 5_000, from?: string): Promise<FtpControl> {
    return withTimeout(
      new Promise<FtpControl>((resolve, reject) => {
        const socket = net.connect({ host, port, localAddress: from });
        socket.setNoDelay(true);
        socket.once('error', reject);
        socket.once('connect', () => {
          socket.off('error', reject);
          resolve(new FtpControl(socket));
        });
      }),
      timeoutMs,
      `connect to ${authority(host, port)}`,
    );
  }

  /** Connects, logs in anonymously and switches to TYPE I. */
  static async login(host: string, port: number, timeoutMs = 5_000, from?: string): Promise<FtpControl> {
    const ctl = await FtpControl.connect(host, port, timeoutMs, from);
    try {
      await ctl.expect('USER anonymous', 331);
      await ctl.expect('PASS test@example.com', 230);
      await ctl.expect('TYPE I', 200);
    } catch (e) {
      ctl.destroy();
      throw e;
    }
    return ctl;
  }

  /** Sends one command line (CRLF appended). */
  send(line: string): void {
    this.socket.write(line + '\r\n');
  }

  /** Sends bytes exactly as given. */
  write(bytes: Buffer | string): void {
    this.socket.write(bytes);
  }

  /** Sends a command and reads its reply. */
  async cmd(line: string, timeoutMs = defaultReplyMs): Promise<FtpReply> {
    this.send(line);
    return this.reply(timeoutMs);
  }

  /** Sends a command; throws unless the reply has `code`. */
  async expect(line: string, code: number, timeoutMs = defaultReplyMs): Promise<FtpReply> {
    const r = await this.cmd(line, timeoutMs);
    if (r.code !== code) throw new Error(`${line.slice(0, 60)} → expected ${code}, got ${r.lines.join(' / ')}`);
    return r;
  }

  /** Reads the next complete reply. */
  async reply(timeoutMs = defaultReplyMs): Promise<FtpReply> {
    const deadline = Date.now() + timeoutMs;
    const first = await this.line(deadline);
    // 's': a CR inside a line is legal when sent as CR NUL (RFC 2640 3.1), e.g. an echoed path.
    const m = /^(\d{3})([ -])(.*)$/s.exec(first);
    if (m === null) throw new Error(`malformed reply line: ${JSON.stringify(first)}`);
    const code = Number(m[1]);
    const lines = [first];
    if (m[2] === '-') {
      // RFC 959 4.2: a multi-line reply ends with a line starting with the same code and a space.
      for (;;) {
        const next = await this.line(deadline);
        lines.push(next);
        if (next.startsWith(`${m[1]} `)) break;
      }
    }
    return { code, lines, text: m[3] ?? '' };
  }

  /** Whether complete reply lines are waiting unread. */
  get pendingLines(): number {
    return this.lines.length;
  }

  /** Resolves once the server has closed the connection (after any replies still unread). */
  async waitClosed(timeoutMs = defaultReplyMs): Promise<void> {
    await withTimeout(this.closed, timeoutMs, 'control connection to close');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private async line(deadline: number): Promise<string> {
    for (;;) {
      const l = this.lines.shift();
      if (l !== undefined) return l;
      if (this.ended) {
        const why = this.socketError ? `: ${this.socketError.message}` : '';
        throw new Error(`control connection closed while waiting for a reply${why}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a reply');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  private notify(): void {
    this.wake?.();
  }
}

// ───────────────────────────── data connections ─────────────────────────────

export const dataModes = ['EPSV', 'PASV', 'PORT', 'EPRT'] as const;
export type DataMode = (typeof dataModes)[number];

export interface DataResult {
  bytes: number;
  sha256: string;
  /** The bytes themselves, when asked for with keep. */
  data?: Buffer;
  /** A socket error (e.g. ECONNRESET), if the connection did not end cleanly. */
  error?: string;
}

/** A data connection set up with one of the four commands, collecting what arrives on it. */
export class DataChannel {
  private socket: net.Socket | undefined;
  private readonly settled: Promise<DataResult>;
  private resolveSocket!: (s: net.Socket) => void;
  /** Resolves with the data socket once it is connected or accepted. */
  readonly connected: Promise<net.Socket>;

  private constructor(
    readonly mode: DataMode,
    /** The reply to the data command (227, 229 or 200). */
    readonly reply: FtpReply,
    private readonly listener: net.Server | undefined,
    keep: boolean,
  ) {
    this.connected = new Promise((resolve) => (this.resolveSocket = resolve));
    this.settled = this.connected.then((socket) => collect(socket, keep));
    // Unhandled if the test never asks: a channel that never connects is not an error by itself.
    this.settled.catch(() => {});
  }

  /** Sends the mode's command on `ctl` and prepares the data connection. Throws unless the server accepts. */
  static async open(ctl: FtpControl, mode: DataMode, opts: { keep?: boolean; timeoutMs?: number } = {}): Promise<DataChannel> {
    const timeoutMs = opts.timeoutMs ?? defaultReplyMs;
    const keep = opts.keep ?? false;
    if (mode === 'EPSV' || mode === 'PASV') {
      const r = await ctl.cmd(mode, timeoutMs);
      const target = mode === 'EPSV' ? epsvTarget(r, ctl) : pasvTarget(r);
      if (target === undefined) throw new Error(`${mode} → ${r.lines.join(' / ')}`);
      const channel = new DataChannel(mode, r, undefined, keep);
      const socket = await withTimeout(connectTo(target.host, target.port), timeoutMs, `data connect to ${authority(target.host, target.port)}`);
      channel.attach(socket);
      return channel;
    }
    const local = ctl.socket.localAddress ?? '127.0.0.1';
    const listener = net.createServer();
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host: local, port: 0 }, resolve);
    });
    const { port } = listener.address() as net.AddressInfo;
    const line =
      mode === 'PORT'
        ? `PORT ${local.replace(/^::ffff:/, '').split('.').join(',')},${port >> 8},${port & 255}`
        : `EPRT |${net.isIPv6(local) ? 2 : 1}|${local}|${port}|`;
    let r: FtpReply;
    try {
      r = await ctl.cmd(line, timeoutMs);
    } catch (e) {
      listener.close();
      throw e;
    }
    if (r.code !== 200) {
      listener.close();
      throw new Error(`${line} → ${r.lines.join(' / ')}`);
    }
    const channel = new DataChannel(mode, r, listener, keep);
    listener.once('connection', (socket: net.Socket) => {
      // One data connection per channel: the listener is done.
      listener.close();
      channel.attach(socket);
    });
    return channel;
  }

  /** Waits for the data connection to end (the server closes it after the last byte). */
  result(timeoutMs = 20_000): Promise<DataResult> {
    return withTimeout(this.settled, timeoutMs, `${this.mode} data connection to end`);
  }

  /** The data socket, when there is one. */
  get current(): net.Socket | undefined {
    return this.socket;
  }

  /** Drops everything: the socket (reset) and, for active modes, the listener. */
  close(): void {
    if (this.listener?.listening === true) this.listener.close();
    this.socket?.destroy();
  }

  /** Drops the data connection with a RST, as a client that vanishes does. */
  reset(): void {
    if (this.listener?.listening === true) this.listener.close();
    this.socket?.resetAndDestroy();
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    this.resolveSocket(socket);
  }
}

/** A TCP connection to host:port, once connected. */
export function connectTo(host: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}

/** Reads a data socket to its end; the hash is computed as bytes arrive (500 clients × 1 MiB stay small). */
export function collect(socket: net.Socket, keep: boolean): Promise<DataResult> {
  return new Promise((resolve) => {
    const hash = createHash('sha256');
    const chunks: Buffer[] = [];
    let bytes = 0;
    let error: string | undefined;
    socket.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      hash.update(chunk);
      if (keep) chunks.push(chunk);
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.once('close', () => {
      const result: DataResult = { bytes, sha256: hash.digest('hex') };
      if (keep) result.data = Buffer.concat(chunks);
      if (error !== undefined) result.error = error;
      resolve(result);
    });
  });
}

/** RFC 2428 3: 229 text (|||port|); the host is the control connection's peer. */
export function epsvTarget(r: FtpReply, ctl: FtpControl): { host: string; port: number } | undefined {
  if (r.code !== 229) return undefined;
  const m = /\((.)\1\1(\d+)\1\)/.exec(r.text);
  const host = ctl.socket.remoteAddress;
  if (m === null || host === undefined) return undefined;
  return { host, port: Number(m[2]) };
}

/** RFC 959 4.1.2: 227 text with h1,h2,h3,h4,p1,p2. */
export function pasvTarget(r: FtpReply): { host: string; port: number } | undefined {
  if (r.code !== 227) return undefined;
  const m = /(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/.exec(r.text);
  if (m === null) return undefined;
  const n = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return { host: n.slice(0, 4).join('.'), port: n[4] * 256 + n[5] };
}

export interface Download extends DataResult {
  /** The preliminary reply to RETR (150), or its refusal. */
  prelim: FtpReply;
  /** The final reply (226 …), absent when RETR was refused. */
  final?: FtpReply;
}

/**
 * One RETR over a fresh data connection of the given mode, with an optional
 * REST before it. A refused RETR returns with no final reply and no data.
 */
export async function retrieve(
  ctl: FtpControl,
  mode: DataMode,
  path: string,
  opts: { rest?: number; keep?: boolean; timeoutMs?: number } = {},
): Promise<Download> {
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const channel = await DataChannel.open(ctl, mode, { keep: opts.keep ?? false });
  try {
    if (opts.rest !== undefined) await ctl.expect(`REST ${opts.rest}`, 350);
    const prelim = await ctl.cmd(`RETR ${path}`, timeoutMs);
    if (prelim.code !== 150 && prelim.code !== 125) return { prelim, bytes: 0, sha256: sha256('') };
    const final = await ctl.reply(timeoutMs);
    // A failed connect (active mode) ends with 425 and no data connection to wait for.
    if (channel.current === undefined && final.code >= 400) return { prelim, final, bytes: 0, sha256: sha256('') };
    return { prelim, final, ...(await channel.result(timeoutMs)) };
  } finally {
    channel.close();
  }
}

/**
 * RETR `path` over a fresh EPSV data connection whose reader stops after the
 * first bytes: the transfer stays running until the caller resumes the
 * socket (`(await channel.connected).resume()`). The file must outsize what
 * loopback's socket buffers hold (64 MiB does).
 */
export async function stalledDownload(ctl: FtpControl, path: string): Promise<DataChannel> {
  const channel = await DataChannel.open(ctl, 'EPSV');
  const socket = await channel.connected;
  const first = new Promise<void>((resolve) =>
    socket.once('data', () => {
      socket.pause();
      resolve();
    }),
  );
  ctl.send(`RETR ${path}`);
  const prelim = await ctl.reply();
  if (prelim.code !== 150) {
    channel.close();
    throw new Error(`RETR ${path} → ${prelim.lines.join(' / ')}`);
  }
  await withTimeout(first, 10_000, `the first bytes of ${path}`);
  return channel;
}
