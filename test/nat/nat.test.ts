// FTP through a real Linux NAT: client, NAT and server network namespaces
// joined by veth links (test/nat/lab.sh), source NAT and the kernel's FTP
// conntrack helper on the control port, muxftpd in the server namespace,
// curl and python3 ftplib in the client namespace. Every download is checked
// by sha256. A second lab puts the server behind the NAT (port forward +
// --pasv-address). FTPS through both: passive works with --pasv-address and
// the forwarded range; active through the helper fails while the control
// connection is encrypted and works after CCC. See docs/nat-guide.md.
//
// Needs root (network namespaces), iproute2, nftables or iptables, curl and
// python3; skipped with a one-line reason where they are missing (a line per
// program from test/helpers/requires.ts, naming its package). Namespaces
// are deleted and servers killed in afterAll, even when a test fails.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastJsonLine } from '../helpers/lab-results.js';
import { missing } from '../helpers/requires.js';
import {
  collectStaleLabs,
  ensureBuilt,
  explain,
  Lab,
  type LabOptions,
  loadScript,
  probe,
  type RunResult,
  Server,
  sha256,
} from './lab.js';

const env = probe();

type Mode = 'EPSV' | 'PASV' | 'EPRT' | 'PORT';
const modes: readonly Mode[] = ['EPSV', 'PASV', 'EPRT', 'PORT'];

/**
 * curl options per mode. PASV trusts the address in the 227 reply
 * (--no-ftp-skip-pasv-ip; curl ignores it by default), so the address
 * muxftpd announces is checked end to end. `-P -` puts the client's own
 * address in EPRT/PORT; --disable-eprt makes it send PORT.
 */
const curlMode: Record<Mode, string[]> = {
  EPSV: [],
  PASV: ['--disable-epsv', '--no-ftp-skip-pasv-ip'],
  EPRT: ['-P', '-'],
  PORT: ['-P', '-', '--disable-eprt'],
};

/** Explicit FTPS with TLS required on control and data (PROT P); the auto certificate is self-signed. */
const ftps = ['-k', '--ssl-reqd'];

/** Served files: sizes around the edges (empty, one byte, odd sizes, several blocks). */
const fileSizes: Record<string, number> = {
  'empty.bin': 0,
  'one.bin': 1,
  'k64.bin': 64 * 1024 + 1,
  'm1.bin': 1024 * 1024 + 3,
  'm8.bin': 8 * 1024 * 1024 + 5,
};
/** The concurrent loads use the smaller files. */
const loadFiles = ['empty.bin', 'one.bin', 'k64.bin', 'm1.bin'];

const CONTROL_PORT = 2121;
const LOAD_CLIENTS = 200;
const LOAD_ROUNDS = 2;

let tmp = '';
let root = '';
let loadManifest = '';
const digests = new Map<string, string>();

function curl(lab: Lab, args: readonly string[]): Promise<RunResult> {
  // curl's own deadlines sit below the kill deadline.
  return lab.client('curl', ['-sS', '-v', '--connect-timeout', '5', '--max-time', '25', ...args], 30_000);
}

function url(host: string, port: number, path = ''): string {
  return `ftp://${host}:${port}/${path}`;
}

/** Downloads every served file in `mode` and checks each byte by sha256. */
async function downloadAll(lab: Lab, host: string, port: number, mode: Mode): Promise<RunResult[]> {
  const runs: RunResult[] = [];
  for (const [name, size] of Object.entries(fileSizes)) {
    const r = await curl(lab, [...curlMode[mode], url(host, port, name)]);
    expect(r.code, `${mode} ${name}: ${explain(r)}`).toBe(0);
    expect(r.stdoutBytes.length, `${mode} ${name}: size`).toBe(size);
    expect(sha256(r.stdoutBytes), `${mode} ${name}: sha256`).toBe(digests.get(name));
    runs.push(r);
  }
  return runs;
}

/** The command curl sent for `mode`, as its -v log shows it. */
function sentCommand(mode: Mode, clientAddr: string): string {
  switch (mode) {
    case 'EPSV':
      return '> EPSV';
    case 'PASV':
      return '> PASV';
    case 'EPRT':
      return `> EPRT |1|${clientAddr}|`;
    case 'PORT':
      return `> PORT ${clientAddr.replaceAll('.', ',')},`;
  }
}

interface LoadSummary {
  clients: number;
  expected: number;
  ok: number;
  by_mode: Record<string, number>;
  bad_checksum: number;
  max_logged_in_at_once: number;
  unfinished_clients: number;
  errors: Record<string, number>;
  error_samples: string[];
}

async function clients(lab: Lab, args: readonly string[], timeoutMs = 180_000): Promise<RunResult> {
  return lab.client('python3', [loadScript, ...args], timeoutMs);
}

async function load(lab: Lab, host: string, port: number, extra: readonly string[] = []): Promise<LoadSummary> {
  const r = await clients(lab, [
    'load', '--host', host, '--port', String(port), '--manifest', loadManifest,
    '--timeout', '30', '--deadline', '150', ...extra,
  ]);
  return lastJsonLine<LoadSummary>(r, 'clients.py load');
}

/**
 * argv: host port file mode(eprt|port) ccc(1|0). ftplib's FTP_TLS in active
 * mode over PROT P, its data connections resuming the control connection's
 * session (kept from before CCC, which unwraps the control socket), CCC
 * after login when asked. Prints {"sha256"} or {"error"}.
 */
const ftplibActiveScript = `
import ftplib, hashlib, json, socket, ssl, sys
host, port, name, mode, ccc = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] == '1'
class Active(ftplib.FTP_TLS):
    session = None
    def makeport(self):
        sock = socket.create_server((self.sock.getsockname()[0], 0), backlog=1)
        sock.settimeout(self.timeout)
        h, p = sock.getsockname()[:2]
        (self.sendeprt if mode == 'eprt' else self.sendport)(h, p)
        return sock
    def ntransfercmd(self, cmd, rest=None):
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        return self.context.wrap_socket(conn, server_hostname=self.host, session=self.session), size
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ftp = Active(context=ctx, timeout=10)
ftp.connect(host, port)
ftp.auth()
ftp.login()
ftp.prot_p()
ftp.session = ftp.sock.session
if ccc:
    ftp.ccc()
ftp.set_pasv(False)
h = hashlib.sha256()
try:
    ftp.retrbinary('RETR ' + name, h.update)
    print(json.dumps({'sha256': h.hexdigest()}))
except ftplib.all_errors as e:
    print(json.dumps({'error': str(e)}))
`;

async function ftplibActive(lab: Lab, mode: 'EPRT' | 'PORT', ccc: boolean): Promise<{ sha256?: string; error?: string }> {
  const r = await lab.client('python3', ['-c', ftplibActiveScript, lab.env.connectAddr, String(CONTROL_PORT), 'm1.bin', mode.toLowerCase(), ccc ? '1' : '0'], 30_000);
  expect(r.code, explain(r)).toBe(0);
  return lastJsonLine<{ sha256?: string; error?: string }>(r, 'ftplib');
}

/** The reply to one command (PASV or STAT) from a fresh login, via clients.py. */
async function oneReply(lab: Lab, verb: 'pasv' | 'stat', host: string, port: number): Promise<string> {
  const r = await clients(lab, [verb, '--host', host, '--port', String(port), '--timeout', '10'], 30_000);
  expect(r.code, explain(r)).toBe(0);
  return r.stdout;
}

function pasvTarget(reply: string): { host: string; port: number } {
  const m = /\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)/.exec(reply);
  if (m === null) throw new Error(`no address in PASV reply: ${reply}`);
  const n = m.slice(1).map(Number) as [number, number, number, number, number, number];
  return { host: n.slice(0, 4).join('.'), port: n[4] * 256 + n[5] };
}

/** Ends the servers and deletes the lab; collects every error so one failure does not leak the rest. */
async function teardown(servers: (Server | undefined)[], lab: Lab | undefined): Promise<void> {
  const errors: unknown[] = [];
  for (const s of servers) {
    try {
      await s?.stop();
    } catch (e) {
      errors.push(e);
    }
  }
  try {
    await lab?.down();
  } catch (e) {
    errors.push(e);
  }
  if (errors.length > 0) throw new AggregateError(errors, 'NAT lab teardown');
}

interface LabUp {
  lab: Lab;
  /** The servers, in the order of serverArgs: at least one. */
  servers: [Server, ...Server[]];
}

/**
 * Registers the beforeAll/afterAll of one describe: the lab and its servers
 * (one per serverArgs entry) come up before its tests and go after them; a
 * failure while starting removes whatever was started, then rethrows. The
 * getter throws when the lab is not up (its beforeAll failed).
 */
function useLab(tag: string, opts: LabOptions, serverArgs: (lab: Lab) => string[][]): () => LabUp {
  let lab: Lab | undefined;
  const servers: Server[] = [];
  beforeAll(async () => {
    lab = await Lab.up(tag, opts);
    try {
      for (const args of serverArgs(lab)) servers.push(await Server.start(lab.env.nsServer, args));
    } catch (e) {
      await teardown(servers.splice(0), lab);
      lab = undefined;
      throw e;
    }
  }, 60_000);
  afterAll(async () => {
    await teardown(servers, lab);
  }, 60_000);
  return () => {
    const [first, ...rest] = servers;
    if (lab === undefined || first === undefined) throw new Error('lab not up');
    return { lab, servers: [first, ...rest] };
  };
}

const title = 'FTP through a Linux NAT in network namespaces';
describe.skipIf(env.skip !== undefined)(env.skip === undefined ? title : `${title} (skipped: ${env.skip})`, () => {
  beforeAll(async () => {
    await collectStaleLabs();
    await ensureBuilt();
    tmp = await mkdtemp(join(tmpdir(), 'muxftpd-nat-'));
    root = join(tmp, 'root');
    await mkdir(root);
    for (const [name, size] of Object.entries(fileSizes)) {
      const data = randomBytes(size);
      digests.set(name, sha256(data));
      await writeFile(join(root, name), data);
    }
    loadManifest = join(tmp, 'load-manifest.json');
    await writeFile(loadManifest, JSON.stringify(Object.fromEntries(loadFiles.map((n) => [n, digests.get(n)]))));
  }, 240_000);

  afterAll(async () => {
    if (tmp !== '') await rm(tmp, { recursive: true, force: true });
  });

  describe(`client behind a masquerading NAT, FTP helper on the control port (${env.fw})`, () => {
    const up = useLab(
      'snat',
      {
        mode: 'snat', fw: env.fw, helper: true, ftpPorts: [CONTROL_PORT], forward: '40000-40999',
        clientNet: '10.231.0', serverNet: '10.232.0',
      },
      (l) => [[
        '--host', l.env.serverAddr, '--port', String(CONTROL_PORT), '--root', root,
        // All clients share the NAT's one address: the range bounds how many
        // passive setups they can have open at once.
        '--pasv-ports', '40000-40999', '--threads', '2', '--log-level', 'warn',
        // FTPS too (clear FTP is still served): the FTPS cases below.
        '--tls-cert', 'auto',
      ]],
    );
    const the = (): { lab: Lab; server: Server } => {
      const { lab, servers } = up();
      return { lab, server: servers[0] };
    };

    it('the server sees the client as the NAT\'s outside address', async () => {
      const { lab } = the();
      const stat = await oneReply(lab, 'stat', lab.env.connectAddr, CONTROL_PORT);
      expect(stat).toContain(`Connected to ${lab.env.seenAs} `);
      expect(lab.env.seenAs).not.toBe(lab.env.clientAddr);
    });

    it('PASV announces the server\'s own address and a port of its range', async () => {
      const { lab } = the();
      const target = pasvTarget(await oneReply(lab, 'pasv', lab.env.connectAddr, CONTROL_PORT));
      expect(target.host).toBe(lab.env.serverAddr);
      expect(target.port).toBeGreaterThanOrEqual(40000);
      expect(target.port).toBeLessThanOrEqual(40999);
    });

    it.each(modes)('%s: every file arrives byte for byte; listing works', async (mode) => {
      const { lab } = the();
      const runs = await downloadAll(lab, lab.env.connectAddr, CONTROL_PORT, mode);
      // The client sent its private address in EPRT/PORT: the helper rewrote
      // it, or muxftpd (which connects only to the peer) would have refused it.
      for (const r of runs) expect(r.stderr).toContain(sentCommand(mode, lab.env.clientAddr));
      const list = await curl(lab, [...curlMode[mode], url(lab.env.connectAddr, CONTROL_PORT)]);
      expect(list.code, explain(list)).toBe(0);
      for (const name of Object.keys(fileSizes)) expect(list.stdout).toContain(name);
    }, 120_000);

    it(`${LOAD_CLIENTS} concurrent clients in all four modes, every checksum right`, async () => {
      const { lab, server } = the();
      const s = await load(lab, lab.env.connectAddr, CONTROL_PORT, [
        '--clients', String(LOAD_CLIENTS), '--rounds', String(LOAD_ROUNDS),
      ]);
      expect(s.errors, JSON.stringify(s.error_samples)).toEqual({});
      expect(s.max_logged_in_at_once).toBe(LOAD_CLIENTS);
      expect(s.bad_checksum).toBe(0);
      expect(s.unfinished_clients).toBe(0);
      expect(s.ok).toBe(LOAD_CLIENTS * LOAD_ROUNDS);
      for (const mode of ['epsv', 'pasv', 'port', 'eprt']) {
        expect(s.by_mode[mode]).toBe((LOAD_CLIENTS / 4) * LOAD_ROUNDS);
      }
      expect(server.running, server.stderr()).toBe(true);
    }, 200_000);

    it('without the helper, active EPRT and PORT are refused (504); passive still works', async () => {
      const { lab, server } = the();
      await lab.helper(false);
      try {
        for (const mode of ['EPSV', 'PASV'] as const) {
          const r = await curl(lab, [...curlMode[mode], url(lab.env.connectAddr, CONTROL_PORT, 'k64.bin')]);
          expect(r.code, explain(r)).toBe(0);
          expect(sha256(r.stdoutBytes)).toBe(digests.get('k64.bin'));
        }
        for (const mode of ['EPRT', 'PORT'] as const) {
          const r = await curl(lab, [...curlMode[mode], url(lab.env.connectAddr, CONTROL_PORT, 'k64.bin')]);
          // curl: 30 = FTP PORT failed. The server got the client's private
          // address unchanged; it is not the peer (the NAT), so muxftpd
          // refuses to connect there (RFC 2577 bounce protection).
          expect(r.code, explain(r)).toBe(30);
          expect(r.stderr).toContain(sentCommand(mode, lab.env.clientAddr));
          expect(r.stderr).toMatch(/< 504 /);
          expect(r.stdoutBytes.length).toBe(0);
        }
        const s = await load(lab, lab.env.connectAddr, CONTROL_PORT, [
          '--clients', '8', '--rounds', '1', '--modes', 'port,eprt',
        ]);
        expect(s.ok).toBe(0);
        expect(s.errors).toEqual({ 'port: ftp 504': 4, 'eprt: ftp 504': 4 });
      } finally {
        await lab.helper(true);
      }
      // And with the helper back, new control connections work again.
      const r = await curl(lab, [...curlMode.PORT, url(lab.env.connectAddr, CONTROL_PORT, 'one.bin')]);
      expect(r.code, explain(r)).toBe(0);
      expect(server.running, server.stderr()).toBe(true);
    }, 120_000);

    it('FTPS active (EPRT, PORT): refused while the control connection is encrypted (the helper cannot read it), works after CCC', async () => {
      const { lab, server } = the();
      for (const mode of ['EPRT', 'PORT'] as const) {
        const encrypted = await curl(lab, [...ftps, ...curlMode[mode], url(lab.env.connectAddr, CONTROL_PORT, 'm1.bin')]);
        // The client's private address reached the server unrewritten: not the peer, so 504 (RFC 2577).
        expect(encrypted.code, explain(encrypted)).toBe(30);
        expect(encrypted.stderr).toContain(sentCommand(mode, lab.env.clientAddr));
        expect(encrypted.stderr).toMatch(/< 504 /);
        // ftplib, not curl: curl 7.87-7.88 cannot do active FTPS at all (curl/curl#10666).
        const before = await ftplibActive(lab, mode, false);
        expect(before.error, JSON.stringify(before)).toMatch(/^504 /);
        const after = await ftplibActive(lab, mode, true);
        expect(after.error, JSON.stringify(after)).toBeUndefined();
        expect(after.sha256).toBe(digests.get('m1.bin'));
      }
      expect(server.running, server.stderr()).toBe(true);
    }, 120_000);

    it('FTPS passive (EPSV, PASV) works through the masquerade: the server announces its own address', async () => {
      const { lab } = the();
      for (const mode of ['EPSV', 'PASV'] as const) {
        const r = await curl(lab, [...ftps, ...curlMode[mode], url(lab.env.connectAddr, CONTROL_PORT, 'm8.bin')]);
        expect(r.code, explain(r)).toBe(0);
        expect(sha256(r.stdoutBytes)).toBe(digests.get('m8.bin'));
      }
    }, 60_000);

    it('after all of it, the server stops cleanly on SIGTERM', async () => {
      const { server } = the();
      expect(await server.stop()).toEqual({ code: 0, signal: null });
    }, 30_000);
  });

  describe(`server behind a NAT, reached through a port forward (--pasv-address, ${env.fw})`, () => {
    // The NAT forwards its public address's control ports and passive range
    // to the server. Server A announces the public address; server B is the
    // same server without --pasv-address. No helper unless a test turns it on.
    const PORT_A = 2121;
    const PORT_B = 2122;
    const up = useLab(
      'dnat',
      {
        mode: 'dnat', fw: env.fw, helper: false, ftpPorts: [PORT_A, PORT_B], forward: '41000-41999',
        clientNet: '10.233.0', serverNet: '10.234.0',
      },
      (l) => {
        const common = ['--host', l.env.serverAddr, '--root', root, '--threads', '2', '--log-level', 'warn'];
        return [
          [...common, '--port', String(PORT_A), '--pasv-ports', '41000-41499', '--pasv-address', l.env.publicAddr, '--tls-cert', 'auto'],
          [...common, '--port', String(PORT_B), '--pasv-ports', '41500-41999'],
        ];
      },
    );
    const the = (): { lab: Lab; a: Server; b: Server } => {
      const { lab, servers: [a, b] } = up();
      if (b === undefined) throw new Error('lab not up');
      return { lab, a, b };
    };

    it('PASV announces the public address and a port of the forwarded range', async () => {
      const { lab } = the();
      const target = pasvTarget(await oneReply(lab, 'pasv', lab.env.connectAddr, PORT_A));
      expect(target.host).toBe(lab.env.publicAddr);
      expect(target.port).toBeGreaterThanOrEqual(41000);
      expect(target.port).toBeLessThanOrEqual(41499);
      // The server sees the client's real address: a port forward does not SNAT.
      const stat = await oneReply(lab, 'stat', lab.env.connectAddr, PORT_A);
      expect(stat).toContain(`Connected to ${lab.env.clientAddr} `);
    });

    it.each(modes)('%s: every file arrives byte for byte, without any helper', async (mode) => {
      const { lab } = the();
      await downloadAll(lab, lab.env.connectAddr, PORT_A, mode);
    }, 120_000);

    it(`${LOAD_CLIENTS} concurrent clients through the port forward, PASV address trusted`, async () => {
      const { lab, a } = the();
      const s = await load(lab, lab.env.connectAddr, PORT_A, [
        '--clients', String(LOAD_CLIENTS), '--rounds', String(LOAD_ROUNDS),
      ]);
      expect(s.errors, JSON.stringify(s.error_samples)).toEqual({});
      expect(s.max_logged_in_at_once).toBe(LOAD_CLIENTS);
      expect(s.bad_checksum).toBe(0);
      expect(s.ok).toBe(LOAD_CLIENTS * LOAD_ROUNDS);
      expect(a.running, a.stderr()).toBe(true);
    }, 200_000);

    it.each(['EPSV', 'PASV'] as const)('FTPS %s (PROT P) through the port forward with --pasv-address: byte for byte', async (mode) => {
      const { lab, a } = the();
      // The encrypted 227 is out of any helper's reach: --pasv-address and the forwarded range are what make it work.
      const r = await curl(lab, [...ftps, ...curlMode[mode], url(lab.env.connectAddr, PORT_A, 'm8.bin')]);
      expect(r.code, explain(r)).toBe(0);
      expect(r.stderr).toMatch(/^> PROT P/m);
      if (mode === 'PASV') expect(r.stderr).toContain(`Connecting to ${lab.env.publicAddr}`);
      expect(sha256(r.stdoutBytes)).toBe(digests.get('m8.bin'));
      expect(a.running, a.stderr()).toBe(true);
    }, 60_000);

    it('without --pasv-address, PASV leaks the private address and a client that trusts it fails', async () => {
      const { lab } = the();
      const target = pasvTarget(await oneReply(lab, 'pasv', lab.env.connectAddr, PORT_B));
      expect(target.host).toBe(lab.env.serverAddr);
      const pasv = await curl(lab, [...curlMode.PASV, url(lab.env.connectAddr, PORT_B, 'k64.bin')]);
      expect(pasv.code, explain(pasv)).toBe(7); // couldn't connect (to the private address)
      expect(pasv.stderr).toContain(`Connecting to ${lab.env.serverAddr}`);
      // EPSV carries no address, so it works through the forward regardless.
      const epsv = await curl(lab, [...curlMode.EPSV, url(lab.env.connectAddr, PORT_B, 'k64.bin')]);
      expect(epsv.code, explain(epsv)).toBe(0);
      expect(sha256(epsv.stdoutBytes)).toBe(digests.get('k64.bin'));
    }, 60_000);

    it('with the FTP helper on the forward, the NAT rewrites the private PASV address', async () => {
      const { lab, b } = the();
      await lab.helper(true);
      try {
        const target = pasvTarget(await oneReply(lab, 'pasv', lab.env.connectAddr, PORT_B));
        expect(target.host).toBe(lab.env.publicAddr);
        const r = await curl(lab, [...curlMode.PASV, url(lab.env.connectAddr, PORT_B, 'm1.bin')]);
        expect(r.code, explain(r)).toBe(0);
        expect(sha256(r.stdoutBytes)).toBe(digests.get('m1.bin'));
      } finally {
        await lab.helper(false);
      }
      expect(b.running, b.stderr()).toBe(true);
    }, 60_000);
  });

  // Only worth a lab of its own when the labs above used nft.
  const iptSkip =
    env.fw !== 'nft'
      ? 'the labs above already use iptables'
      : env.skip === undefined && missing('iptables')
        ? 'iptables is not installed'
        : !env.iptables
          ? 'iptables (with the CT target) is missing'
          : undefined;
  describe.skipIf(iptSkip !== undefined)(`iptables fallback: raw CT --helper ftp${iptSkip ? ` (skipped: ${iptSkip})` : ''}`, () => {
    const up = useLab(
      'ipt',
      {
        mode: 'snat', fw: 'iptables', helper: true, ftpPorts: [CONTROL_PORT], forward: '42000-42099',
        clientNet: '10.235.0', serverNet: '10.236.0',
      },
      (l) => [[
        '--host', l.env.serverAddr, '--port', String(CONTROL_PORT), '--root', root,
        '--pasv-ports', '42000-42099', '--threads', '2', '--log-level', 'warn',
      ]],
    );

    it('active EPRT and PORT work with the helper and are refused without it', async () => {
      const { lab } = up();
      for (const mode of ['EPRT', 'PORT'] as const) {
        const r = await curl(lab, [...curlMode[mode], url(lab.env.connectAddr, CONTROL_PORT, 'm1.bin')]);
        expect(r.code, explain(r)).toBe(0);
        expect(sha256(r.stdoutBytes)).toBe(digests.get('m1.bin'));
      }
      await lab.helper(false);
      for (const mode of ['EPRT', 'PORT'] as const) {
        const r = await curl(lab, [...curlMode[mode], url(lab.env.connectAddr, CONTROL_PORT, 'm1.bin')]);
        expect(r.code, explain(r)).toBe(30);
        expect(r.stderr).toMatch(/< 504 /);
      }
    }, 60_000);
  });
});
