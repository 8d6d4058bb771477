// THE settings table: every setting of muxftpd, once. The CLI flags, the
// environment variables, the --help text, startServer()'s options and the
// error codes all come from these rows.
import { stat } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type LogFormat, logFormats, type LogLevel, logLevels } from '../log.js';
import { type AccountConfig, accountSettings } from './account-settings.js';
import { type LimitConfig, limitSettings } from './limit-settings.js';
import { type OpsConfig, opsSettings } from './ops-settings.js';
import { type TlsConfig, tlsSettings } from './tls-settings.js';
import { packageRoot } from './package-root.js';
import { boolean, byteSize, byteSizeOrOff, integer, InvalidValue, oneOf, text } from './validators.js';

export { InvalidValue };

const cpus = os.availableParallelism();

/**
 * One server process feeds about three cores of worker threads: its command
 * thread and its acceptor each cost about 0.3 of what its workers cost per
 * session (docs/scaling.md). Up to 2 CPUs, where a load generator or the
 * kernel takes the other core, one process.
 */
export function defaultProcesses(cpuCount: number): number {
  return cpuCount <= 2 ? 1 : Math.ceil(cpuCount / 4);
}

/** --threads when not given: the CPUs shared out over the processes. */
export function defaultThreads(cpuCount: number, processes: number): number {
  return Math.max(1, Math.ceil(cpuCount / processes));
}

export interface PortRange {
  min: number;
  max: number;
}

export type CopyModeName = 'sendfile' | 'readwrite';

export interface Config extends LimitConfig, OpsConfig, AccountConfig, TlsConfig {
  host: string;
  port: number;
  root: string;
  processes: number;
  threads: number;
  clientsPerThread: number;
  maxClients: number;
  blockSize: number;
  pasvPorts: PortRange | null;
  pasvAddress: string | null;
  copy: CopyModeName;
  uploadWriteBehind: number;
  atomicUploads: boolean;
  maxLine: number;
  maxOutput: number;
  logLevel: LogLevel;
  logFormat: LogFormat;
  commandModule: string | null;
}

export type SettingName = keyof Config;

export interface Setting<T> {
  flag: `--${string}`;
  /** Environment variable; the error code is derived from it (MUXFTPD_X → MUXFTPD_ERR_BAD_X). */
  env: `MUXFTPD_${string}`;
  /** The value's kind, shown in --help as the flag's argument. */
  type: string;
  /** The flag takes no value on the command line (present means true). */
  boolean?: true;
  default: T;
  /** The default as --help shows it, with its unit. */
  defaultText: string;
  help: string;
  /** Accepts the string form (flags, environment) and the typed form (startServer options). */
  validate(raw: unknown): T;
  /** Checks against the system, once the value is final; resolves to a reason when bad. */
  verify?(value: T): Promise<string | undefined>;
}

export type SettingsTable = { readonly [K in SettingName]: Setting<Config[K]> };

export const settings: SettingsTable = {
  host: {
    flag: '--host',
    env: 'MUXFTPD_HOST',
    type: 'ip',
    default: '::',
    defaultText: ':: (all interfaces, IPv4 and IPv6)',
    help: 'address to listen on for control connections',
    validate: (raw) => {
      const host = text(raw);
      if (net.isIP(host) === 0) throw new InvalidValue('must be an IPv4 or IPv6 address');
      return host;
    },
  },
  port: {
    flag: '--port',
    env: 'MUXFTPD_PORT',
    type: 'port',
    default: 2121,
    defaultText: '2121',
    help: 'control port (0: any free port)',
    validate: integer(0, 65535),
  },
  root: {
    flag: '--root',
    env: 'MUXFTPD_ROOT',
    type: 'dir',
    default: path.resolve(packageRoot, 'FTP_FILES'),
    defaultText: "the package's FTP_FILES directory",
    help: 'directory served as /',
    validate: (raw) => {
      const dir = text(raw);
      if (dir === '') throw new InvalidValue('must be a directory path');
      if (dir.includes('\0')) throw new InvalidValue('must not contain NUL');
      return path.resolve(dir);
    },
    verify: async (dir) => {
      const st = await stat(dir).catch(() => undefined);
      return st?.isDirectory() === true ? undefined : 'must be an existing directory';
    },
  },
  processes: {
    flag: '--processes',
    env: 'MUXFTPD_PROCESSES',
    type: 'n',
    default: defaultProcesses(cpus),
    defaultText: `1 up to 2 CPUs, else CPUs ÷ 4 rounded up (${defaultProcesses(cpus)})`,
    help: 'server processes sharing the port, each with its own command thread, acceptor and workers; raise it when one process\'s node or muxftpd-accept thread is busy and its workers are not (docs/scaling.md)',
    validate: integer(1, 256),
  },
  threads: {
    flag: '--threads',
    env: 'MUXFTPD_THREADS',
    type: 'n',
    default: cpus,
    defaultText: `CPUs ÷ --processes, rounded up (${cpus} at 1 process)`,
    help: 'worker threads of each server process',
    validate: integer(1, 1024),
  },
  clientsPerThread: {
    flag: '--clients-per-thread',
    env: 'MUXFTPD_CLIENTS_PER_THREAD',
    type: 'n',
    default: 5000,
    defaultText: '5000 clients',
    help: 'most clients one worker thread serves',
    validate: integer(1, 1_000_000),
  },
  maxClients: {
    flag: '--max-clients',
    env: 'MUXFTPD_MAX_CLIENTS',
    type: 'n',
    default: 20000,
    defaultText: '20000 clients',
    help: 'most clients at once; more get 421 and are closed',
    validate: integer(1, 10_000_000),
  },
  blockSize: {
    flag: '--block-size',
    env: 'MUXFTPD_BLOCK_SIZE',
    type: 'size',
    default: 256 * 1024,
    defaultText: '256 KiB',
    help: 'bytes one transfer moves per loop turn (suffix k or m: KiB, MiB)',
    validate: byteSize(4 * 1024, 64 * 1024 * 1024),
  },
  pasvPorts: {
    flag: '--pasv-ports',
    env: 'MUXFTPD_PASV_PORTS',
    type: 'min-max',
    default: null,
    defaultText: 'any port the kernel picks',
    help: 'port range of passive data listeners, e.g. 50000-50999',
    validate: portRange,
  },
  pasvAddress: {
    flag: '--pasv-address',
    env: 'MUXFTPD_PASV_ADDRESS',
    type: 'ipv4|host',
    default: null,
    defaultText: "the control connection's local address",
    help: 'IPv4 address announced in PASV replies (e.g. behind NAT); a host name is resolved once, at start',
    validate: (raw) => {
      if (raw === null) return null;
      const addr = text(raw);
      if (!net.isIPv4(addr) && !hostName.test(addr)) throw new InvalidValue('must be an IPv4 address or a host name');
      return addr;
    },
  },
  copy: {
    flag: '--copy',
    env: 'MUXFTPD_COPY',
    type: 'sendfile|readwrite',
    default: 'sendfile',
    defaultText: 'sendfile',
    help: 'how downloads copy file blocks to sockets',
    validate: oneOf(['sendfile', 'readwrite'] as const),
  },
  uploadWriteBehind: {
    flag: '--upload-write-behind',
    env: 'MUXFTPD_UPLOAD_WRITE_BEHIND',
    type: 'size',
    default: 0,
    defaultText: '0 (off: the kernel decides when uploads reach the disk)',
    help: 'an upload starts writing to disk every this many bytes (at least one block) and drops from the page cache what lies four such windows behind; uploads then run at the disk\'s pace (0: off)',
    validate: byteSizeOrOff(64 * 1024, 1024 * 1024 * 1024),
  },
  atomicUploads: {
    flag: '--atomic-uploads',
    env: 'MUXFTPD_ATOMIC_UPLOADS',
    type: 'bool',
    boolean: true,
    default: false,
    defaultText: 'false (a STOR empties the file and writes it in place, under an exclusive lock)',
    help:
      'a STOR uploads into a hidden temporary file (.muxftpd-upload.*) beside its target and renames it into place only when the upload ends well: readers see the old file whole until then, a failed upload leaves it untouched. ' +
      'Costs: room for both files at once; the new file is a new inode (mode 0644 less umask; hard links keep the old contents; a symlink is replaced, not followed); a crash leaves the temporary behind. ' +
      'APPE and REST+STOR cannot be atomic: they write in place under the lock, as without this',
    validate: boolean,
  },
  maxLine: {
    flag: '--max-line',
    env: 'MUXFTPD_MAX_LINE',
    type: 'bytes',
    default: 8192,
    defaultText: '8192 bytes',
    help: 'longest command line; longer ones get 500',
    validate: integer(256, 1024 * 1024),
  },
  maxOutput: {
    flag: '--max-output',
    env: 'MUXFTPD_MAX_OUTPUT',
    type: 'size',
    default: 1024 * 1024,
    defaultText: '1 MiB',
    help: 'unsent reply bytes a client may leave unread (a flood of commands whose answers it never reads); past it the connection is closed (suffix k or m)',
    validate: byteSize(4 * 1024, 64 * 1024 * 1024),
  },
  logLevel: {
    flag: '--log-level',
    env: 'MUXFTPD_LOG_LEVEL',
    type: logLevels.join('|'),
    default: 'info',
    defaultText: 'info',
    help: 'least severe messages written to stderr',
    validate: oneOf(logLevels),
  },
  logFormat: {
    flag: '--log-format',
    env: 'MUXFTPD_LOG_FORMAT',
    type: logFormats.join('|'),
    default: 'auto',
    defaultText: 'auto (pretty on a terminal, JSON elsewhere)',
    help: 'log lines as JSON objects (for programs) or short lines (for people)',
    validate: oneOf(logFormats),
  },
  commandModule: {
    flag: '--commands',
    env: 'MUXFTPD_COMMANDS',
    type: 'module',
    default: null,
    defaultText: 'none (the built-in table)',
    help: 'a module (path or package) whose default export is a command table: rows added or replaced, null removes a verb',
    validate: (raw) => {
      if (raw === null) return null;
      const specifier = text(raw);
      if (specifier === '') throw new InvalidValue('must be a module path or package name');
      return specifier;
    },
  },
  ...limitSettings,
  ...opsSettings,
  ...accountSettings,
  ...tlsSettings,
};

/** RFC 1123 2.1 host name: dot-separated labels of letters, digits and inner hyphens. */
const hostName = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

export const settingNames = Object.keys(settings) as SettingName[];

export function defaultConfig(): Config {
  const config: Partial<Record<SettingName, unknown>> = {};
  for (const name of settingNames) config[name] = settings[name].default;
  return config as Config;
}

function portRange(raw: unknown): PortRange | null {
  if (raw === null) return null;
  const isPort = (p: unknown): p is number => typeof p === 'number' && Number.isInteger(p) && p >= 1024 && p <= 65535;
  let min: unknown;
  let max: unknown;
  if (typeof raw === 'string') {
    const m = /^(\d+)-(\d+)$/.exec(raw);
    if (m !== null) [min, max] = [Number(m[1]), Number(m[2])];
  } else if (typeof raw === 'object' && 'min' in raw && 'max' in raw) {
    ({ min, max } = raw);
  }
  if (!isPort(min) || !isPort(max) || min > max) {
    throw new InvalidValue('must be MIN-MAX with 1024 <= MIN <= MAX <= 65535');
  }
  return { min, max };
}
