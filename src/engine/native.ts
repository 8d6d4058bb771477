// The one file that loads the C++ addon. It declares the shape of everything
// that crosses the boundary; the values (enums, wire offsets, config fields)
// come from the addon itself, which takes them from native/engine/protocol.h
// and engine.h. Names used here that the addon lacks fail at load, and
// test/unit/native-constants.test.ts fails on names the addon has that are
// not declared here.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

/**
 * FTPS (native/engine/engine.h TlsConfig). PEM text, not file names: the TS
 * side reads the files or makes the self-signed certificate, so every process
 * of --processes serves the same certificate.
 */
export interface NativeTlsConfig {
  /** The certificate, PEM; a chain is allowed (the leaf first). */
  cert: string;
  /** Its private key, PEM. */
  key: string;
  /** 'required': a data connection must resume its control connection's TLS session. */
  sessionReuse: 'required' | 'optional';
  /** A listener for implicit TLS (TLS before the 220); 0: the kernel picks the port. Absent: none. */
  implicitPort?: number;
  /** 'auto': kernel TLS for PROT P transfers where the kernel and the OpenSSL build allow it. */
  ktls: 'auto' | 'off';
}

/**
 * The engine's configuration: native/engine/engine.h MUXFTPD_ENGINE_CONFIG
 * declares it, and the addon exports its field names and kinds
 * (constants.engineConfig; test/unit/native-constants.test.ts compares them
 * with these keys). Every field is required: the defaults live in the
 * settings table, and src/config/engine-config.ts maps a Config to this.
 */
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
  /** A CopyMode value. */
  copyMode: number;
  maxLine: number;
  /** Bytes of unsent replies after which a client that does not read is closed. */
  maxOutput: number;
  /** Milliseconds a data connection may make no progress (0: never times out). */
  dataTimeoutMs: number;
  /** Milliseconds a closing session waits while its client reads none of the last replies (0: for ever). */
  closeTimeoutMs: number;
  /** Bytes per second over all transfers (0: unlimited). */
  maxRate: number;
  /** Bytes per second per transfer (0: unlimited). */
  maxRatePerClient: number;
  /** Upload write-behind window in bytes (0: off). */
  writeBehind: number;
  /** Text sent, then the connection closed, when maxClients is reached. */
  busyReply: string;
  /** SO_REUSEPORT on the control listener: the server processes of --processes share its port. */
  reusePort: boolean;
  /** Clients at once from one address (0: no limit); an IPv4-mapped IPv6 address counts as its IPv4 address. */
  maxPerIp: number;
  /** Text sent, then the connection closed, when maxPerIp is reached. */
  perIpReply: string;
  /**
   * A client ledger (createClientLedger) that several engines count
   * maxClients and maxPerIp in together, or -1: the engine makes its own.
   * The engine maps it; the fd stays the caller's.
   */
  ledgerFd: number;
  /** A reply posted with the SplitReply flag: bytes in its first write (0: not split). */
  splitReplyAt: number;
  /** Milliseconds between the two writes of a split reply. */
  splitReplyPauseMs: number;
  /** FTPS, or null: no TLS (StartTls is then answered TlsFailed "tls not configured"). */
  tls: NativeTlsConfig | null;
}

/** TLS counters since start, over every worker (native/engine/engine.h TlsStats). */
export interface NativeTlsStats {
  /** AUTH TLS and implicit-TLS handshakes that completed. */
  controlHandshakes: number;
  /** TLS 1.3 control connections handed from OpenSSL to the engine's own record layer after their handshake. */
  controlSwitched: number;
  /** AUTH TLS handshakes (and CCC shutdowns) that failed. */
  controlFailures: number;
  /** Implicit-TLS handshakes that failed (those sessions never reach JS). */
  implicitFailures: number;
  /** Data connection handshakes that completed. */
  dataHandshakes: number;
  /** Data connection handshakes that failed. */
  dataFailures: number;
  /** Data connections refused: session reuse required and not done. */
  dataNotResumed: number;
  /** Transfers sent with kernel TLS. */
  ktlsTransfers: number;
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
  /** Passive data connections taken from the control peer (the address truth's passiveControlPeer; no event reports them). */
  passiveControlPeer: number;
  /** Clients turned away past maxClients (or clientsPerThread). */
  rejected: number;
  /** Clients turned away past maxPerIp. */
  rejectedPerIp: number;
  /** The process's open-file limit, raised to the hard limit at start. */
  fdLimit: number;
  tls: NativeTlsStats;
}

export interface NativeEngine {
  /** Queue actions; each reaches its session's worker, which an eventfd wakes. */
  /** Actions encoded by actions.ts (ActionWriter); copied before it returns. */
  post(actions: Buffer): void;
  /**
   * The address the control listener is bound to (port resolved when 0 was
   * asked); implicitTlsPort: the implicit-TLS listener's port (0: none).
   */
  address(): { host: string; port: number; implicitTlsPort: number };
  stats(): NativeStats;
  /** Close the control listener; open sessions go on (for a graceful drain). */
  stopAccepting(): void;
  /** Stop accepting, close every session, join every thread. Idempotent. */
  stop(): void;
}

export type WireType = 'u8' | 'u16' | 'u32' | 'i32' | 'u64' | 'f64';

/** A record's fixed header and its fields (native/engine/protocol.h, MUXFTPD_*_FIELDS). */
export interface WireLayout {
  header: number;
  fields: Readonly<Record<string, { offset: number; type: WireType }>>;
}

/** What native/engine/protocol.h and engine.h export: every enum, the wire layout, the config's fields. */
export interface NativeConstants {
  events: Readonly<Record<string, number>>;
  actions: Readonly<Record<string, number>>;
  closeReasons: Readonly<Record<string, number>>;
  transferErrors: Readonly<Record<string, number>>;
  writeModes: Readonly<Record<string, number>>;
  copyModes: Readonly<Record<string, number>>;
  fileOps: Readonly<Record<string, number>>;
  actionFlags: Readonly<Record<string, number>>;
  dataProtections: Readonly<Record<string, number>>;
  wire: { event: WireLayout; action: WireLayout; stat: WireLayout };
  engineConfig: Readonly<Record<string, 'string' | 'number' | 'boolean'>>;
  /** How the name of a 'replace' upload's temporary file starts (protocol.h kUploadTempPrefix). */
  uploadTempPrefix: string;
}

/** A decoded action, as the native codec reads it (for the boundary test). */
export interface ProbedAction {
  type: number;
  mode: number;
  op: number;
  flags: number;
  seq: number;
  sid: number;
  offset: number;
  port: number;
  data: Buffer;
  preamble: string;
  epilogue: string;
}

/** An event for the native encoder (for the boundary test); absent numbers are 0. */
export interface ProbeEvent {
  type: number;
  sid?: number;
  seq?: number;
  error?: number;
  port?: number;
  localPort?: number;
  bytes?: number;
  tooLong?: boolean;
  fresh?: boolean;
  implicitTls?: boolean;
  /** DataRefused: late, not foreign. */
  late?: boolean;
  reason?: number;
  text?: string | Buffer;
  local?: string;
}

export interface NativeBinding {
  /**
   * Starts an engine. `onEvents` gets one packed batch per worker loop
   * iteration, its first `length` bytes of `buffer`; src/engine/batch.ts
   * decodes it. The buffer is the engine's own, reused for the next batch:
   * it is read during the call only.
   */
  createEngine(cfg: NativeConfig, onEvents: (buffer: Buffer, length: number) => void): NativeEngine;
  /**
   * A fresh client ledger for engines in several processes to share
   * (NativeConfig.ledgerFd), sized for maxClients clients: its fd, which is
   * close-on-exec (pass it to a child in `stdio`, which hands it on). The
   * caller owns it: it closes it once the engines have started (each keeps
   * its own mapping), or when done.
   */
  createClientLedger(maxClients: number): number;
  /**
   * A self-signed ECDSA P-256 certificate for `commonName` (subject alternative
   * names: it, 127.0.0.1 and ::1), valid from an hour ago for a year, and its
   * SHA-256 fingerprint as colon-separated upper-case hex (--tls-cert auto).
   */
  makeSelfSignedCertificate(commonName: string): { cert: string; key: string; fingerprint: string };
  constants: NativeConstants;
  /** The native codec itself, so a test can check the TypeScript side against it. */
  codec: {
    /** null for a buffer the engine would refuse. */
    decodeActions(actions: Buffer): ProbedAction[] | null;
    encodeEvents(events: readonly ProbeEvent[]): Buffer;
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

/** The names of an enum group TypeScript uses; the values come from the addon. */
export const enumNames = {
  events: ['Open', 'Line', 'PassiveReady', 'DataFailed', 'TransferDone', 'Closed', 'InputEnded', 'TransferStarted', 'FileDone', 'LoopFailed',
    'DataConnected', 'DataRefused', 'TlsReady', 'TlsFailed', 'ControlCleared'],
  actions: ['Reply', 'ListenPassive', 'ConnectActive', 'SendFile', 'SendBuffer', 'RecvFile', 'Abort', 'Close', 'FileOp', 'PauseInput', 'ResumeInput',
    'OpenData', 'StartTls', 'ClearControl', 'DataProtection'],
  closeReasons: ['PeerClosed', 'Requested', 'IoError', 'OutputOverflow', 'Shutdown', 'CloseTimeout'],
  transferErrors: ['Ok', 'Aborted', 'NoDataConnection', 'PeerClosed', 'ConnectFailed', 'Timeout', 'TlsFailed', 'TlsNotResumed'],
  writeModes: ['Truncate', 'Append', 'Exclusive', 'Replace'],
  copyModes: ['Sendfile', 'ReadWrite'],
  fileOps: ['Home', 'Stat', 'Lstat', 'List', 'Mkdir', 'Rmdir', 'Unlink', 'Rename'],
  actionFlags: ['SplitReply'],
  dataProtections: ['Clear', 'Private'],
} as const;

type EnumGroup = keyof typeof enumNames;
type Enum<G extends EnumGroup> = Readonly<Record<(typeof enumNames)[G][number], number>>;

function exported<G extends EnumGroup>(group: G): Enum<G> {
  const values = loadBinding().constants[group];
  const out: Record<string, number> = {};
  for (const name of enumNames[group]) {
    const v = values[name];
    if (v === undefined) throw new Error(`muxftpd: the addon has no ${group}.${name}: rebuild it (npm run build:native)`);
    out[name] = v;
  }
  return Object.freeze(out) as Enum<G>;
}

export const EventType = exported('events');
export const ActionType = exported('actions');
export const CloseReason = exported('closeReasons');
/** Transfer outcomes that are not an errno; errno values arrive negated. */
export const TransferError = exported('transferErrors');
export const WriteMode = exported('writeModes');
export const CopyMode = exported('copyModes');
/** What a FileOp action does (native/engine/protocol.h MUXFTPD_FILE_OPS). */
export const FileOp = exported('fileOps');
/** Bits of an action's flags (native/engine/protocol.h MUXFTPD_ACTION_FLAGS). */
export const ActionFlag = exported('actionFlags');
/** What a DataProtection action sets (PROT C, PROT P). */
export const DataProtection = exported('dataProtections');

/**
 * How the name of an atomic upload's temporary file starts: the engine
 * creates it beside the target (WriteMode.Replace); listings leave it out.
 */
export const uploadTempPrefix: string = loadBinding().constants.uploadTempPrefix;

/**
 * The offset of one header field of a wire record, checked against the type
 * the caller reads or writes it as: a field whose width changed on the C++
 * side fails here, at load, not as garbled numbers.
 */
export type WireRecord = 'event' | 'action' | 'stat';

export function wireField(record: WireRecord, name: string, type: WireType): number {
  const f = loadBinding().constants.wire[record].fields[name];
  if (f === undefined || f.type !== type) {
    throw new Error(`muxftpd: the addon's ${record} field ${name} is ${f?.type ?? 'missing'}, this code reads ${type}: rebuild it`);
  }
  return f.offset;
}

export function wireHeader(record: WireRecord): number {
  return loadBinding().constants.wire[record].header;
}
