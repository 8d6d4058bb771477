// The servers bench:compare starts, one at a time, each on 127.0.0.1 only,
// all with the same profile as shared/peers: anonymous login, read-only
// (writable only in the upload profile, into ROOT/upload), sendfile on where
// the server has it, client limits raised, logging off, no reverse DNS.
// Every server runs in its own session (setsid) and is stopped by pid.
// A scenario may start muxftpd with other worker threads or a narrower
// passive range (StartOptions.threads / pasvPorts); peers keep their own.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { findBenchTool } from '../client/ftpload.js';

// bare is not a peer but the reference (native/bench/bare.cc): what the
// machine shows with no server work at all (bench/matrix.ts, `reference`).
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

const peersDir = process.env['PEERS_DIR'] ?? '/opt/peers';

/** Ports as in shared/peers (muxftpd: 2210, 4000-9999). */
export const specs: Record<ServerName, ServerSpec> = {
  muxftpd: { name: 'muxftpd', port: 2210, pasvMin: 4000, pasvMax: 9999, install: 'npm install (this package)' },
  vsftpd: { name: 'vsftpd', port: 2201, pasvMin: 10000, pasvMax: 11999, install: 'apt-get install vsftpd' },
  proftpd: {
    name: 'proftpd', port: 2202, pasvMin: 12000, pasvMax: 13999,
    install: `bash bench/peers/install.sh (apt-get download proftpd-core; dpkg-deb -x into ${peersDir}/proftpd)`,
  },
  // pure-ftpd caps its clients at half its passive range: 12000 ports for 6000 sessions.
  'pure-ftpd': {
    name: 'pure-ftpd', port: 2203, pasvMin: 16000, pasvMax: 27999,
    install: `bash bench/peers/install.sh (apt-get download pure-ftpd; dpkg-deb -x into ${peersDir}/pure-ftpd)`,
  },
  pyftpdlib: { name: 'pyftpdlib', port: 2204, pasvMin: 14000, pasvMax: 15999, install: 'apt-get install python3-pyftpdlib' },
  'ftp-srv': {
    name: 'ftp-srv', port: 2205, pasvMin: 28000, pasvMax: 29999,
    install: `bash bench/peers/install.sh (npm install ftp-srv@4 in ${peersDir}/ftp-srv)`,
  },
  bare: { name: 'bare', port: 2209, pasvMin: 30000, pasvMax: 31999, install: 'npm install (builds native/bench/bare) or make -C native/bench' },
};

export interface StartOptions {
  root: string;
  stateDir: string;
  writable: boolean;
  packageRoot: string;
  /** muxftpd only: --threads (default: muxftpd's own, one per CPU). */
  threads?: number | undefined;
  /** muxftpd only: this many passive ports from its pasvMin (default: its whole spec range). */
  pasvPorts?: number | undefined;
}

/** The passive port range a server is started with, "min-max". */
export function pasvRange(name: ServerName, o: Pick<StartOptions, 'pasvPorts'>): string {
  const s = specs[name];
  const max = name === 'muxftpd' && o.pasvPorts ? Math.min(s.pasvMax, s.pasvMin + o.pasvPorts - 1) : s.pasvMax;
  return `${s.pasvMin}-${max}`;
}

interface Launch {
  argv: string[];
  files: Record<string, string>;
}

function which(bins: string[]): string | null {
  for (const b of bins) if (existsSync(b)) return b;
  return null;
}

function ftpHome(): string | null {
  try {
    const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('ftp:'));
    return line?.split(':')[5] ?? null;
  } catch {
    return null;
  }
}

function nobodyGroup(): string {
  const r = spawnSync('id', ['-gn', 'nobody'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'nogroup';
}

/** null when installed; otherwise why not. */
export function missing(name: ServerName, packageRoot: string): string | null {
  switch (name) {
    case 'muxftpd':
      return existsSync(path.join(packageRoot, 'dist/cli.js')) ? null : 'dist/cli.js not built (npm run build:ts)';
    case 'vsftpd':
      return which(['/usr/sbin/vsftpd']) ? null : 'vsftpd not installed';
    case 'proftpd':
      return which(['/usr/sbin/proftpd', `${peersDir}/proftpd/usr/sbin/proftpd`]) ? null : 'proftpd not installed';
    case 'pure-ftpd':
      return which(['/usr/sbin/pure-ftpd', `${peersDir}/pure-ftpd/usr/sbin/pure-ftpd`]) ? null : 'pure-ftpd not installed';
    case 'pyftpdlib':
      return spawnSync('/usr/bin/python3', ['-c', 'import pyftpdlib']).status === 0 ? null : 'pyftpdlib not installed';
    case 'ftp-srv':
      return existsSync(`${peersDir}/ftp-srv/node_modules/ftp-srv/package.json`) ? null : 'ftp-srv not installed';
    case 'bare':
      try {
        findBenchTool('bare');
        return null;
      } catch {
        return 'bare not built';
      }
  }
}

/** The command line (and config files) of one server; exported for the tests. */
export function launch(name: ServerName, s: ServerSpec, o: StartOptions): Launch {
  const { root, stateDir: dir, writable } = o;
  switch (name) {
    case 'muxftpd':
      // Client limits raised like the peers' (its default is 5000 per thread);
      // node's flag as `npm start` and the muxftpd command set it (README, Operations).
      return {
        argv: [process.execPath, '--max-semi-space-size=4', path.join(o.packageRoot, 'dist/cli.js'), '--host', '127.0.0.1',
          '--port', String(s.port), '--pasv-ports', pasvRange(name, o), '--root', root,
          '--log-level', 'error', '--max-clients', '50000', '--clients-per-thread', '50000',
          ...(o.threads ? ['--threads', String(o.threads)] : []),
          ...(writable ? ['--writable'] : [])],
        files: {},
      };
    case 'vsftpd': {
      mkdirSync(path.join(dir, 'empty'), { recursive: true, mode: 0o755 });
      const conf = `listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=${s.port}
background=NO
ftpd_banner=vsftpd bench
anonymous_enable=YES
no_anon_password=YES
ftp_username=ftp
anon_root=${root}
local_enable=NO
write_enable=${writable ? 'YES' : 'NO'}
anon_upload_enable=${writable ? 'YES' : 'NO'}
anon_mkdir_write_enable=NO
anon_other_write_enable=${writable ? 'YES' : 'NO'}
anon_umask=022
dirmessage_enable=NO
pasv_enable=YES
pasv_address=127.0.0.1
pasv_addr_resolve=NO
pasv_min_port=${s.pasvMin}
pasv_max_port=${s.pasvMax}
port_enable=YES
connect_from_port_20=NO
max_clients=0
max_per_ip=0
use_sendfile=YES
isolate=YES
isolate_network=YES
xferlog_enable=NO
dual_log_enable=NO
syslog_enable=NO
log_ftp_protocol=NO
vsftpd_log_file=${dir}/vsftpd.log
tcp_wrappers=NO
secure_chroot_dir=${dir}/empty
pam_service_name=vsftpd
idle_session_timeout=600
data_connection_timeout=300
accept_timeout=60
connect_timeout=60
`;
      return { argv: ['/usr/sbin/vsftpd', path.join(dir, 'vsftpd.conf')], files: { 'vsftpd.conf': conf } };
    }
    case 'proftpd': {
      const bin = which(['/usr/sbin/proftpd', `${peersDir}/proftpd/usr/sbin/proftpd`]) as string;
      const limits = writable
        ? `  AllowOverwrite        on
  <Limit WRITE SITE_CHMOD>
    DenyAll
  </Limit>
  <Directory upload>
    <Limit STOR>
      AllowAll
    </Limit>
  </Directory>`
        : `  <Limit WRITE SITE_CHMOD>
    DenyAll
  </Limit>`;
      const conf = `ServerName              "proftpd bench"
ServerIdent             on "proftpd bench"
ServerType              standalone
DefaultServer           on
Port                    ${s.port}
DefaultAddress          127.0.0.1
SocketBindTight         on
UseIPv6                 off
User                    nobody
Group                   ${nobodyGroup()}
PidFile                 ${dir}/proftpd.pid
ScoreboardFile          ${dir}/proftpd.scoreboard
MaxInstances            100000
TCPBacklog              255
MaxClients              none
MaxClientsPerHost       none
MaxClientsPerUser       none
MaxConnectionsPerHost   none
MaxHostsPerUser         none
UseReverseDNS           off
DelayEngine             off
AuthPAM                 off
AuthOrder               mod_auth_unix.c
UseFtpUsers             off
UseSendfile             on
ControlsEngine          off
WtmpLog                 off
TransferLog             none
SystemLog               none
SyslogLevel             emerg
PassivePorts            ${s.pasvMin} ${s.pasvMax}
AllowForeignAddress     off
TimeoutIdle             600
TimeoutNoTransfer       600
TimeoutLogin            300
<Anonymous ${root}>
  User                  ftp
  Group                 nogroup
  UserAlias             anonymous ftp
  RequireValidShell     off
  AnonRequirePassword   off
  MaxClients            none
${limits}
</Anonymous>
`;
      return { argv: [bin, '-n', '-q', '-c', path.join(dir, 'proftpd.conf')], files: { 'proftpd.conf': conf } };
    }
    case 'pure-ftpd': {
      const bin = which(['/usr/sbin/pure-ftpd', `${peersDir}/pure-ftpd/usr/sbin/pure-ftpd`]) as string;
      const home = ftpHome();
      if (!home) throw new Error('pure-ftpd needs the ftp user');
      mkdirSync(home, { recursive: true, mode: 0o755 });
      // Anonymous users are served from ~ftp: bind-mount ROOT there inside a
      // private mount namespace, leaving the host's mounts alone.
      return {
        argv: ['unshare', '--mount', '--propagation', 'private', '--', '/bin/sh', '-c',
          'mount --bind "$1" "$2" || exit 1; shift 2; exec "$@"', 'sh', root, home,
          bin, '-S', `127.0.0.1,${s.port}`, '-4', '-e', ...(writable ? [] : ['-i']), '-H',
          '-c', '50000', '-C', '50000', '-p', `${s.pasvMin}:${s.pasvMax}`, '-P', '127.0.0.1',
          '-f', 'none', '-I', '15', '-g', path.join(dir, 'pure-ftpd.pid')],
        files: {},
      };
    }
    case 'pyftpdlib': {
      const py = `import logging, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer
root, port, pmin, pmax, perm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
logging.basicConfig(level=logging.ERROR)
auth = DummyAuthorizer()
auth.add_anonymous(root, perm=perm)
class Handler(FTPHandler):
    pass
Handler.authorizer = auth
Handler.banner = "pyftpdlib bench"
Handler.passive_ports = range(pmin, pmax + 1)
Handler.permit_foreign_addresses = False
Handler.use_sendfile = True
Handler.timeout = 600
server = FTPServer(("127.0.0.1", port), Handler, backlog=4096)
server.max_cons = 0
server.max_cons_per_ip = 0
server.serve_forever(handle_exit=True)
`;
      return {
        argv: ['/usr/bin/python3', path.join(dir, 'server.py'), root, String(s.port), String(s.pasvMin),
          String(s.pasvMax), writable ? 'elrw' : 'elr'],
        files: { 'server.py': py },
      };
    }
    case 'ftp-srv': {
      const blacklist = ['APPE', 'STOU', 'DELE', 'RMD', 'XRMD', 'MKD', 'XMKD', 'RNFR', 'RNTO', 'SITE', 'ALLO'];
      if (!writable) blacklist.unshift('STOR');
      const js = `const path = require('path');
const [root, port, pmin, pmax, dir] = process.argv.slice(2);
const FtpSrv = require(path.join(dir, 'node_modules', 'ftp-srv'));
const bunyan = require(path.join(dir, 'node_modules', 'bunyan'));
const log = bunyan.createLogger({ name: 'ftp-srv', level: 'fatal' });
const srv = new FtpSrv({
  url: 'ftp://127.0.0.1:' + port, pasv_url: '127.0.0.1', pasv_min: Number(pmin), pasv_max: Number(pmax),
  anonymous: true, greeting: 'ftp-srv bench', timeout: 0, blacklist: ${JSON.stringify(blacklist)}, log,
});
srv.on('login', (_data, resolve) => resolve({ root }));
srv.on('client-error', () => {});
srv.listen().catch((e) => { console.error(e); process.exit(1); });
`;
      return {
        argv: [process.execPath, path.join(dir, 'server.cjs'), root, String(s.port), String(s.pasvMin),
          String(s.pasvMax), `${peersDir}/ftp-srv`],
        files: { 'server.cjs': js },
      };
    }
    case 'bare':
      return {
        argv: [findBenchTool('bare'), '--port', String(s.port), '--file', path.join(root, 'small.bin'), '--pasv-ports', pasvRange(name, o)],
        files: {},
      };
  }
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
  const spec = specs[name];
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
