// The one file that loads the C++ addon. It declares, by hand, the shape of
// everything that crosses the boundary; native/engine/protocol.h is its
// mirror, and test/unit/native-constants.test.ts checks the two agree.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const EventType = {
  Open: 1,
  Line: 2,
  PassiveReady: 3,
  DataFailed: 4,
  TransferDone: 5,
  Closed: 6,
  InputEnded: 7,
  TransferStarted: 8,
} as const;

export const ActionType = {
  Reply: 1,
  ListenPassive: 2,
  ConnectActive: 3,
  SendFile: 4,
  SendBuffer: 5,
  RecvFile: 6,
  Abort: 7,
  Close: 8,
} as const;

export const CloseReason = {
  PeerClosed: 1,
  Requested: 2,
  IoError: 3,
  OutputOverflow: 4,
  Shutdown: 5,
  CloseTimeout: 6,
} as const;

/** Transfer outcomes that are not an errno; errno values arrive negated. */
export const TransferError = {
  Ok: 0,
  Aborted: 1,
  NoDataConnection: 2,
  PeerClosed: 3,
  ConnectFailed: 4,
  Timeout: 5,
} as const;

export const WriteMode = {
  Truncate: 0,
  Append: 1,
  Exclusive: 2,
} as const;

export const CopyMode = {
  Sendfile: 0,
  ReadWrite: 1,
} as const;

export interface NativeConfig {
  host: string;
  port: number;
  /** Absolute path of the served root; every file path in an action is relative to it. */
  root: string;
  threads: number;
  clientsPerThread: number;
  maxClients: number;
  blockSize: number;
  /** 0/0 means: let the kernel pick an ephemeral port. */
  pasvMin: number;
  pasvMax: number;
  copyMode: number;
  maxLine: number;
  /** Bytes of unsent replies after which a client that does not read is closed. */
  maxOutput: number;
  /** Text sent, then the connection closed, when maxClients is reached. */
  busyReply: string;
  /** Milliseconds a data connection may make no progress (0 or absent: never times out). */
  dataTimeoutMs?: number;
  /** Milliseconds a closing session waits while its client reads none of the last replies (0: for ever; absent: 10 s). */
  closeTimeoutMs?: number;
  /** Bytes per second over all transfers (0 or absent: unlimited). */
  maxRate?: number;
  /** Bytes per second per transfer (0 or absent: unlimited). */
  maxRatePerClient?: number;
  /** Upload write-behind window in bytes (0 or absent: off). */
  writeBehind?: number;
}

/** One native worker's loop counters since start. Mean batch size = events / batches. */
export interface NativeLoopStats {
  /** epoll_wait returns (events, timeouts and interruptions alike). */
  iterations: number;
  /** Event batches posted to JS. */
  batches: number;
  /** Events in those batches. */
  events: number;
}

export interface NativeStats {
  sessions: number;
  perWorker: number[];
  /** Loop counters, one entry per worker in worker order (as perWorker). */
  loops: NativeLoopStats[];
  accepted: number;
  rejected: number;
  /** The process's open-file limit, raised to the hard limit at start. */
  fdLimit: number;
}

export interface NativeEngine {
  /** Queue actions; each reaches its session's worker, which an eventfd wakes. */
  /** Actions encoded by actions.ts (ActionWriter); copied before it returns. */
  post(actions: Buffer): void;
  /** The address the control listener is bound to (port resolved when 0 was asked). */
  address(): { host: string; port: number };
  stats(): NativeStats;
  /** Close the control listener; open sessions go on (for a graceful drain). */
  stopAccepting(): void;
  /** Stop accepting, close every session, join every thread. Idempotent. */
  stop(): void;
}

export interface NativeBinding {
  /**
   * Starts an engine. `onEvents` gets one packed buffer per worker loop
   * iteration; src/engine/batch.ts owns its record layout.
   */
  createEngine(cfg: NativeConfig, onEvents: (batch: Buffer) => void): NativeEngine;
  constants: {
    events: Record<string, number>;
    actions: Record<string, number>;
    closeReasons: Record<string, number>;
    transferErrors: Record<string, number>;
  };
}

const packageRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

let loaded: NativeBinding | undefined;

/** Loads the addon once: a prebuild when one matches, else build/Release. */
export function loadBinding(): NativeBinding {
  if (loaded === undefined) {
    const require = createRequire(import.meta.url);
    const nodeGypBuild = require('node-gyp-build') as (dir: string) => unknown;
    // The single cast across the boundary: the addon is typed by this file.
    loaded = nodeGypBuild(packageRoot) as NativeBinding;
  }
  return loaded;
}
