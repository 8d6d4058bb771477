// The servers bench:compare can start, one row each: its ports, how to
// install it, where its program is, its config file (in config/, filled in
// at launch, see templates.ts), its command line, whether it is installed
// here and its version. All with the same profile as shared/peers: anonymous
// login, read-only (writable only in the upload profile, into ROOT/upload),
// sendfile on where the server has it, client limits raised, logging off,
// no reverse DNS, 127.0.0.1 only. Starting and stopping them is servers.ts's.
//
// bare is not a peer but the reference (native/bench/bare.cc): what the
// machine shows with no server work at all (bench/matrix/scenarios.ts, `reference`).

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { findBenchTool } from '../client/ftpload.js';
import { sh } from '../shell.js';
import { fillIn, readConfig } from './templates.js';

export const serverNames = ['muxftpd', 'vsftpd', 'proftpd', 'pure-ftpd', 'pyftpdlib', 'ftp-srv', 'bare'] as const;
export type ServerName = (typeof serverNames)[number];

export interface ServerSpec {
  name: ServerName;
  port: number;
  pasvMin: number;
  pasvMax: number;
  /** How to install it when missing. */
  install: string;
}

export interface StartOptions {
  root: string;
  stateDir: string;
  writable: boolean;
  packageRoot: string;
  /** muxftpd only: --threads (default: muxftpd's own, one per CPU). */
  threads?: number | undefined;
  /** muxftpd only: --processes (default 1). */
  processes?: number | undefined;
  /** muxftpd only: this many passive ports from its pasvMin (default: its whole spec range). */
  pasvPorts?: number | undefined;
  /** FTPS offered (not required) with this certificate and key (PEM): the TLS rows. */
  tls?: TlsFiles | undefined;
}

export interface TlsFiles {
  cert: string;
  key: string;
}

/** What a row's command line is made of. */
export interface Launching {
  o: StartOptions;
  spec: ServerSpec;
  /** Its program: the first of its `binaries` that exists ('' when none does). */
  bin: string;
  /** Its config file as written into the state dir ('' for a row without one). */
  config: string;
  /** Its passive port range, "min-max". */
  pasv: string;
}

export interface Peer extends ServerSpec {
  /** Where its program may be installed; the first that exists is used. */
  binaries?: readonly string[];
  /**
   * Its config file in config/ and the name it is written under in the state
   * dir; every row's {{PORT}}, {{PASV_MIN}}, {{PASV_MAX}}, {{ROOT}} and
   * {{STATE_DIR}} are filled in, and `values` adds the row's own.
   */
  config?: { file: string; as: string; values?: (o: StartOptions) => Record<string, string> };
  /** What must exist on disk before it starts. */
  prepare?: (o: StartOptions) => void;
  /** Its command line. */
  argv: (l: Launching) => string[];
  /** null when it can run here; otherwise why not. */
  missing: (packageRoot: string) => string | null;
  /** Its version, for results.md. */
  version: (packageRoot: string) => string;
  /** TLS rows: null when it can offer FTPS here; otherwise why not (what to install). */
  tlsMissing?: () => string | null;
}

const peersDir = process.env['PEERS_DIR'] ?? '/opt/peers';

/** The first of `bins` that exists, or null. */
export function findBinary(bins: readonly string[] | undefined): string | null {
  return bins?.find((b) => existsSync(b)) ?? null;
}

const installedAt = (name: string, bins: readonly string[]) => (): string | null =>
  findBinary(bins) ? null : `${name} not installed`;

function ftpHome(): string {
  let home: string | undefined;
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('ftp:'));
    home = line?.split(':')[5];
  } catch {
    // no passwd file
  }
  if (!home) throw new Error('pure-ftpd needs the ftp user');
  return home;
}

function nobodyGroup(): string {
  const r = spawnSync('id', ['-gn', 'nobody'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'nogroup';
}

const proftpd = ['/usr/sbin/proftpd', `${peersDir}/proftpd/usr/sbin/proftpd`];
const pureFtpd = ['/usr/sbin/pure-ftpd', `${peersDir}/pure-ftpd/usr/sbin/pure-ftpd`];
const vsftpd = ['/usr/sbin/vsftpd'];
/** proftpd's mod_tls.so (proftpd-mod-crypto): lib/proftpd beside the bin/ or sbin/ of its program. */
const proftpdModDir = (): string => path.join(path.dirname(path.dirname(findBinary(proftpd) ?? proftpd[1] ?? '')), 'lib/proftpd');

/** A TLS fragment from config/ filled in with the run's certificate, or '' for a clear-text start. */
function tlsFragment(o: StartOptions, file: string, more: Record<string, string> = {}): string {
  return o.tls ? fillIn(readConfig(o.packageRoot, file), { TLS_CERT: o.tls.cert, TLS_KEY: o.tls.key, ...more }, file).trimEnd() : '';
}

/** Ports as in shared/peers (muxftpd: 2210, 4000-9999). */
export const peers: Record<ServerName, Peer> = {
  muxftpd: {
    name: 'muxftpd', port: 2210, pasvMin: 4000, pasvMax: 9999, install: 'npm install (this package)',
    // Client limits raised like the peers' (its default is 5000 per thread);
    // node's flag as `npm start` and the muxftpd command set it (README, Operations).
    argv: ({ o, spec, pasv }) => [process.execPath, '--max-semi-space-size=4', path.join(o.packageRoot, 'dist/cli.js'),
      '--host', '127.0.0.1', '--port', String(spec.port), '--pasv-ports', pasv, '--root', o.root,
      '--log-level', 'error', '--max-clients', '50000', '--clients-per-thread', '50000',
      '--processes', String(o.processes ?? 1),
      ...(o.threads ? ['--threads', String(o.threads)] : []),
      ...(o.tls ? ['--tls-cert', o.tls.cert, '--tls-key', o.tls.key] : []),
      ...(o.writable ? ['--writable'] : [])],
    missing: (packageRoot) =>
      existsSync(path.join(packageRoot, 'dist/cli.js')) ? null : 'dist/cli.js not built (npm run build:ts)',
    version: (packageRoot) => sh(`node ${path.join(packageRoot, 'dist/cli.js')} --version`) || 'dev',
  },
  vsftpd: {
    name: 'vsftpd', port: 2201, pasvMin: 10000, pasvMax: 11999, install: 'apt-get install vsftpd',
    binaries: vsftpd,
    config: {
      file: 'vsftpd.conf', as: 'vsftpd.conf',
      values: (o) => ({ WRITE: o.writable ? 'YES' : 'NO', TLS: tlsFragment(o, 'vsftpd-tls.conf') }),
    },
    prepare: (o) => mkdirSync(path.join(o.stateDir, 'empty'), { recursive: true, mode: 0o755 }),
    argv: ({ bin, config }) => [bin, config],
    missing: installedAt('vsftpd', vsftpd),
    version: () => sh("dpkg-query -W -f='${Version}' vsftpd"),
  },
  proftpd: {
    name: 'proftpd', port: 2202, pasvMin: 12000, pasvMax: 13999,
    install: `bash bench/peers/install.sh (apt-get download proftpd-core; dpkg-deb -x into ${peersDir}/proftpd)`,
    binaries: proftpd,
    config: {
      file: 'proftpd.conf', as: 'proftpd.conf',
      values: (o) => ({
        NOBODY_GROUP: nobodyGroup(),
        LIMITS: readConfig(o.packageRoot, `proftpd-limits-${o.writable ? 'writable' : 'read-only'}.conf`).trimEnd(),
        TLS: tlsFragment(o, 'proftpd-tls.conf', { PROFTPD_MODDIR: proftpdModDir() }),
      }),
    },
    argv: ({ bin, config }) => [bin, '-n', '-q', '-c', config],
    missing: installedAt('proftpd', proftpd),
    version: () => sh(`${findBinary(proftpd) ?? proftpd[0]} -v 2>&1 | head -1`),
    tlsMissing: () => (existsSync(path.join(proftpdModDir(), 'mod_tls.so')) ? null
      : `no ${proftpdModDir()}/mod_tls.so: Debian's proftpd-mod-crypto (bash bench/peers/install.sh unpacks it)`),
  },
  // pure-ftpd caps its clients at half its passive range: 12000 ports for 6000 sessions.
  'pure-ftpd': {
    name: 'pure-ftpd', port: 2203, pasvMin: 16000, pasvMax: 27999,
    install: `bash bench/peers/install.sh (apt-get download pure-ftpd; dpkg-deb -x into ${peersDir}/pure-ftpd)`,
    binaries: pureFtpd,
    prepare: () => mkdirSync(ftpHome(), { recursive: true, mode: 0o755 }),
    // Anonymous users are served from ~ftp: bind-mount ROOT there inside a
    // private mount namespace, leaving the host's mounts alone. No config
    // file: pure-ftpd takes everything as flags.
    argv: ({ o, spec, bin }) => ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c',
      'mount --bind "$1" "$2" || exit 1; shift 2; exec "$@"', 'sh', o.root, ftpHome(),
      bin, '-S', `127.0.0.1,${spec.port}`, '-4', '-e', ...(o.writable ? [] : ['-i']), '-H',
      '-c', '50000', '-C', '50000', '-p', `${spec.pasvMin}:${spec.pasvMax}`, '-P', '127.0.0.1',
      '-f', 'none', '-I', '15', '-g', path.join(o.stateDir, 'pure-ftpd.pid'),
      // --tls=1: AUTH TLS offered, clear text too; --certfile CERT,KEY.
      ...(o.tls ? ['-Y', '1', '-2', `${o.tls.cert},${o.tls.key}`] : [])],
    missing: installedAt('pure-ftpd', pureFtpd),
    version: () => sh(`ls ${peersDir}/debs/pure-ftpd_*.deb 2>/dev/null | head -1 | sed "s/.*pure-ftpd_//; s/_.*//"`) || 'installed',
  },
  pyftpdlib: {
    name: 'pyftpdlib', port: 2204, pasvMin: 14000, pasvMax: 15999, install: 'apt-get install python3-pyftpdlib',
    config: { file: 'pyftpdlib-server.py', as: 'server.py' },
    argv: ({ o, spec, config }) => ['/usr/bin/python3', config, o.root, String(spec.port), String(spec.pasvMin),
      String(spec.pasvMax), o.writable ? 'elrw' : 'elr', ...(o.tls ? [o.tls.cert, o.tls.key] : [])],
    missing: () => (spawnSync('/usr/bin/python3', ['-c', 'import pyftpdlib']).status === 0 ? null : 'pyftpdlib not installed'),
    tlsMissing: () => (spawnSync('/usr/bin/python3', ['-c', 'import OpenSSL']).status === 0 ? null
      : 'TLS_FTPHandler needs python3-openssl (apt-get install python3-openssl)'),
    version: () => sh("/usr/bin/python3 -c 'import pyftpdlib; print(pyftpdlib.__ver__)'"),
  },
  'ftp-srv': {
    name: 'ftp-srv', port: 2205, pasvMin: 28000, pasvMax: 29999,
    install: `bash bench/peers/install.sh (npm install ftp-srv@4 in ${peersDir}/ftp-srv)`,
    config: { file: 'ftp-srv-server.cjs', as: 'server.cjs' },
    // The commands it refuses: every write but STOR, and STOR too unless writable.
    argv: ({ o, spec, config }) => [process.execPath, config, o.root, String(spec.port), String(spec.pasvMin),
      String(spec.pasvMax), `${peersDir}/ftp-srv`,
      [...(o.writable ? [] : ['STOR']), 'APPE', 'STOU', 'DELE', 'RMD', 'XRMD', 'MKD', 'XMKD', 'RNFR', 'RNTO', 'SITE', 'ALLO'].join(',')],
    missing: () => (existsSync(`${peersDir}/ftp-srv/node_modules/ftp-srv/package.json`) ? null : 'ftp-srv not installed'),
    version: () => sh(`node -p "require('${peersDir}/ftp-srv/node_modules/ftp-srv/package.json').version"`),
  },
  bare: {
    name: 'bare', port: 2209, pasvMin: 30000, pasvMax: 31999, install: 'npm install (builds native/bench/bare) or make -C native/bench',
    argv: ({ o, spec, pasv }) => [findBenchTool('bare'), '--port', String(spec.port), '--file', path.join(o.root, 'small.bin'),
      '--pasv-ports', pasv],
    missing: () => {
      try {
        findBenchTool('bare');
        return null;
      } catch {
        return 'bare not built';
      }
    },
    version: () => 'reference (native/bench/bare.cc)',
  },
};

/** The passive port range a server is started with, "min-max". */
export function pasvRange(name: ServerName, o: Pick<StartOptions, 'pasvPorts'>): string {
  const s = peers[name];
  const max = name === 'muxftpd' && o.pasvPorts ? Math.min(s.pasvMax, s.pasvMin + o.pasvPorts - 1) : s.pasvMax;
  return `${s.pasvMin}-${max}`;
}
