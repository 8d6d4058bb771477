// A stand-in for the native engine in unit tests (serialport's injectable
// binding): records replies and actions; transfers settle when a test says so.
import { lstatSync, readdirSync, type Stats, statSync } from 'node:fs';
import { mkdtemp, realpath, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { vi } from 'vitest';
import { buildRegistry } from '../../../src/commands/registry.js';
import type { CommandOverrides } from '../../../src/commands/types.js';
import { type Config, defaultConfig } from '../../../src/config/settings.js';
import {
  DataError,
  type DataEndpoints,
  type EngineHandler,
  type Endpoint,
  type FileOpName,
  type FileOpResult,
  isSessionGone,
  type PassiveReady,
  type PassiveReplies,
  TransferError,
  type TransferOptions,
  type TransferResult,
} from '../../../src/engine/engine.js';
import { type NativeStats, wireField, wireHeader } from '../../../src/engine/native.js';
import { createLogger, type LogLevel } from '../../../src/log.js';
import { fillPassive } from '../../../src/protocol/address.js';
import { type EngineControl, Server } from '../../../src/server.js';

const { ENOENT, EISDIR } = os.constants.errno;

export class FakeEngine implements EngineControl {
  /** Everything sent on the control connection, reply by reply. */
  readonly sent: string[] = [];
  readonly actions: string[] = [];
  passivePort = 40000;
  /** When set, listeners fail with it (a negated errno). */
  passiveErrno: number | undefined;
  /** When set, every FileOp is answered with it, as the worker answers a gone session's (-ECONNRESET). */
  fileOpError: number | undefined;
  private running: { resolve: (r: TransferResult) => void; opts: TransferOptions } | undefined;
  private epilogue: string | undefined;
  private closed = false;
  /** The server's handler, for the events the fake reports itself (Closed). */
  handler: EngineHandler | undefined;

  /** `root`: the served root, where sendFile looks for its file. */
  constructor(private readonly root: string) {}

  reply(_sid: number, text: string): void {
    this.sent.push(text);
  }
  /**
   * Like the native side: the reply template is filled and sent once the
   * listener is up, or the failure reply sent (passiveErrno), unless the
   * session closed or is gone, in the order of the actions; `ready` is told
   * later (an event).
   */
  listenPassive(_sid: number, replies: PassiveReplies, ready: PassiveReady): void {
    this.actions.push('listenPassive');
    const errno = this.passiveErrno;
    if (errno === undefined) {
      if (!this.closed) this.sent.push(fillPassive(replies.template, this.passivePort));
      const port = this.passivePort;
      queueMicrotask(() => ready(port, 0));
      return;
    }
    if (!this.closed && !isSessionGone(errno)) this.sent.push(replies.failure);
    queueMicrotask(() => ready(0, errno));
  }
  connectActive(_sid: number, host: string, port: number): void {
    this.actions.push(`connectActive ${host} ${port}`);
  }
  /** No data connection here: refused as the native side refuses one that is not up. */
  openData(_sid: number): Promise<DataEndpoints> {
    this.actions.push('openData');
    return Promise.reject(new DataError(-os.constants.errno.ENOTCONN));
  }
  /** Like the native side: a file that is not there fails to open and sends no preamble. */
  sendFile(_sid: number, rel: string, offset: number, opts: TransferOptions = {}): Promise<TransferResult> {
    this.actions.push(`sendFile ${rel} ${offset}`);
    const st = statSync(path.join(this.root, rel), { throwIfNoEntry: false });
    if (st === undefined) return this.refuse(opts, -ENOENT);
    if (!st.isFile()) return this.refuse(opts, -EISDIR);
    return this.transfer(opts);
  }
  sendBuffer(_sid: number, data: Buffer, opts: TransferOptions = {}): Promise<TransferResult> {
    this.actions.push(`sendBuffer ${data.toString()}`);
    return this.transfer(opts);
  }
  recvFile(_sid: number, rel: string, _offset: number, _mode: string, opts: TransferOptions = {}): Promise<TransferResult> {
    this.actions.push(`recvFile ${rel}`);
    return this.transfer(opts);
  }
  /** Like the native side: a running transfer then ends, asynchronously, with Aborted. */
  abort(): void {
    this.actions.push('abort');
    setImmediate(() => this.finish({ bytes: 0, error: TransferError.Aborted }));
  }
  /** Like the native side: the session's Closed event follows, asynchronously (when wired to a handler). */
  close(sid: number): void {
    this.closed = true;
    this.actions.push('close');
    const handler = this.handler;
    if (handler !== undefined) setImmediate(() => handler.onClosed(sid, 'requested'));
  }
  pauseInput(): void {
    this.actions.push('pauseInput');
  }
  resumeInput(): void {
    this.actions.push('resumeInput');
  }
  startTls(): void {
    this.actions.push('startTls');
  }
  clearControl(): void {
    this.actions.push('clearControl');
  }
  dataProtection(_sid: number, protection: string): void {
    this.actions.push(`dataProtection ${protection}`);
  }
  /** Lines come one call at a time here: each its own batch. */
  get batchMs(): number {
    return Date.now();
  }
  address(): Endpoint {
    return { address: '127.0.0.1', port: 2121 };
  }
  stats(): NativeStats {
    const tls = { controlHandshakes: 0, controlSwitched: 0, controlFailures: 0, implicitFailures: 0, dataHandshakes: 0, dataFailures: 0, dataNotResumed: 0, ktlsTransfers: 0 };
    return { sessions: 0, perWorker: [], loops: [], accepted: 0, passiveControlPeer: 0, rejected: 0, rejectedPerIp: 0, fdLimit: 1024, tls };
  }
  stopAccepting(): void {
    this.actions.push('stopAccepting');
  }
  /**
   * Like the native side for what unit tests ask (stat, lstat, list), with
   * node's fs beneath the root and no confinement: unit tests name no path
   * that leads out (the integration tests and native/test do).
   */
  fileOp(_sid: number, op: FileOpName, rel: string): Promise<FileOpResult> {
    if (this.fileOpError !== undefined) return Promise.resolve({ error: this.fileOpError, records: Buffer.alloc(0) });
    const full = path.join(this.root, rel);
    try {
      const own = op === 'lstat' ? lstatSync(full) : statSync(full);
      const records = [statRecord(own, '')];
      if (op === 'list' && own.isDirectory()) {
        for (const name of readdirSync(full).sort()) records.push(statRecord(statSync(path.join(full, name)), name));
      } else if (op !== 'stat' && op !== 'lstat' && op !== 'list') {
        return Promise.resolve({ error: -os.constants.errno.EPERM, records: Buffer.alloc(0) });
      }
      return Promise.resolve({ error: 0, records: Buffer.concat(records) });
    } catch (e) {
      const code = e instanceof Error && 'errno' in e && typeof e.errno === 'number' ? e.errno : -ENOENT;
      return Promise.resolve({ error: code, records: Buffer.alloc(0) });
    }
  }
  stop(): Promise<void> {
    return Promise.resolve();
  }

  get transferring(): boolean {
    return this.running !== undefined;
  }

  /** Like the native side: the epilogue is queued when the transfer (open: it started) ends without error. */
  finish(end: Omit<TransferResult, 'opened'> = { bytes: 1, error: TransferError.Ok }): void {
    const running = this.running;
    this.running = undefined;
    if (running === undefined) return;
    if (end.error === TransferError.Ok && this.epilogue !== undefined) this.sent.push(this.epilogue);
    const result = { ...end, opened: true };
    running.opts.ended?.(result);
    running.resolve(result);
  }

  /** A file that does not open: no preamble, no `started`, the data setup kept. */
  private refuse(opts: TransferOptions, error: number): Promise<TransferResult> {
    const result = { bytes: 0, error, opened: false };
    opts.ended?.(result);
    return Promise.resolve(result);
  }

  /** Like the native side: open at once, the preamble queued, then `started` a moment later (an event). */
  private transfer(opts: TransferOptions): Promise<TransferResult> {
    this.epilogue = opts.epilogue;
    if (opts.preamble !== undefined) this.sent.push(opts.preamble);
    if (opts.started) queueMicrotask(opts.started);
    return new Promise((resolve) => {
      this.running = { resolve, opts };
    });
  }
}

/** One stat record as native/engine/file_ops.cc writes it (offsets from the addon). */
function statRecord(st: Stats, name: string): Buffer {
  const n = Buffer.from(name, 'utf8');
  const b = Buffer.alloc(wireHeader('stat') + n.length);
  b.writeUInt32LE(st.mode, wireField('stat', 'mode', 'u32'));
  b.writeUInt32LE(st.nlink, wireField('stat', 'nlink', 'u32'));
  b.writeDoubleLE(st.size, wireField('stat', 'size', 'f64'));
  b.writeDoubleLE(Math.floor(st.mtimeMs), wireField('stat', 'mtimeMs', 'f64'));
  b.writeBigUInt64LE(BigInt(st.dev), wireField('stat', 'dev', 'u64'));
  b.writeBigUInt64LE(BigInt(st.ino), wireField('stat', 'ino', 'u64'));
  b.writeUInt16LE(n.length, wireField('stat', 'nameLength', 'u16'));
  n.copy(b, wireHeader('stat'));
  return b;
}

export interface Harness {
  engine: FakeEngine;
  server: Server;
  root: string;
  /** Log lines (JSON): errors only, unless the harness was given a logLevel. */
  errors: string[];
  /** Sends lines (without CRLF) on session 1. */
  send(...lines: (string | Buffer)[]): void;
  /** Lets pending promise chains run (no fs work: use replies() for that). */
  settle(): Promise<void>;
  /** Waits until `count` replies have been sent in all (fs work included). */
  replies(count: number): Promise<void>;
  /** The reply codes sent so far (each line's first three characters). */
  codes(): number[];
}

export const peer: Endpoint = { address: '127.0.0.1', port: 50000 };
export const local: Endpoint = { address: '127.0.0.1', port: 2121 };

export async function harness(
  options: {
    config?: Partial<Config>;
    commands?: CommandOverrides;
    local?: Endpoint;
    peer?: Endpoint;
    logLevel?: LogLevel;
    /** The session came from the implicit FTPS listener. */
    implicitTls?: boolean;
  } = {},
): Promise<Harness> {
  const root = await realpath(await mkdtemp(path.join(os.tmpdir(), 'muxftpd-unit-')));
  await writeFile(path.join(root, 'file.bin'), Buffer.alloc(1000));
  const engine = new FakeEngine(root);
  const errors: string[] = [];
  const log = createLogger(options.logLevel ?? 'error', (line) => errors.push(line));
  const config = { ...defaultConfig(), root, ...options.config };
  const server = new Server({ config, commands: buildRegistry(options.commands), log }, (handler: EngineHandler) => {
    engine.handler = handler;
    return engine;
  });
  server.onOpen(1, options.peer ?? peer, options.local ?? local, options.implicitTls ?? false);
  const h: Harness = {
    engine,
    server,
    root,
    errors,
    send: (...lines) => {
      for (const line of lines) server.onLine(1, typeof line === 'string' ? Buffer.from(line) : line, false);
    },
    settle: async () => {
      for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    },
    replies: (count) =>
      vi.waitFor(
        () => {
          if (engine.sent.length < count) throw new Error(`${engine.sent.length} of ${count} replies`);
        },
        { timeout: 5000, interval: 1 },
      ),
    codes: () => engine.sent.map((s) => Number(s.slice(0, 3))),
  };
  return h;
}

export async function loggedIn(options: Parameters<typeof harness>[0] = {}): Promise<Harness> {
  const h = await harness(options);
  h.send('USER anonymous', 'PASS x');
  h.engine.sent.length = 0;
  return h;
}
