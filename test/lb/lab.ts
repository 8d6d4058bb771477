// Helpers for the balancer namespace test: the lab (test/lb/lab.sh) driven
// from TypeScript, a muxftpd in each server namespace (the NAT lab's Server),
// each server's Prometheus counters.
//
// Namespaces are named mxlb-<pid>-<tag>-…, so `lab.sh gc` can remove what a
// test run that died left behind; every wait is bounded.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { byLabel, scrapeMetrics } from '../helpers/lab-results.js';
import { missing, notBuilt } from '../helpers/requires.js';
import { explain, readLabEnv, run, type RunResult } from '../nat/lab.js';

export const labScript = fileURLToPath(new URL('./lab.sh', import.meta.url));

// ───────────────────────────── can this machine run the lab? ─────────────────────────────

/**
 * Why the balancer lab cannot run here, said once on stderr; undefined when it
 * can. Programs are checked by test/helpers/requires.ts; then a probe
 * namespace tries a bridge, the FTP conntrack helper and a numgen DNAT map.
 * Synchronous: describe.skipIf needs the answer when the file is collected.
 */
export function probe(): string | undefined {
  const no = (skip: string, told = false): string => {
    if (!told) console.warn(`balancer namespace test skipped: ${skip}`);
    return skip;
  };
  if (process.platform !== 'linux') return no('network namespaces need Linux');
  if ([missing('ip', 'sysctl', 'nft'), notBuilt('ftpload')].includes(true)) return no('a program is missing', true);
  const ns = `mxlb-${process.pid}-probe`;
  const add = spawnSync('ip', ['netns', 'add', ns], { encoding: 'utf8', timeout: 10_000 });
  if (add.status !== 0) {
    return no(`no rights to create network namespaces (ip netns add: ${String(add.stderr ?? add.error?.message).trim()})`);
  }
  try {
    const bridge = spawnSync('ip', ['-n', ns, 'link', 'add', 'br-probe', 'type', 'bridge'], { encoding: 'utf8', timeout: 10_000 });
    if (bridge.status !== 0) return no(`the kernel has no bridge (${String(bridge.stderr).trim()})`);
    const rules = `table ip probe {
 ct helper ftp-probe {
  type "ftp" protocol tcp
  l3proto ip
 }
 chain c {
  type nat hook prerouting priority dstnat;
  tcp dport 2121 dnat to numgen inc mod 2 map { 0 : 10.0.0.1, 1 : 10.0.0.2 }
 }
}
`;
    const nft = spawnSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { encoding: 'utf8', timeout: 10_000, input: rules });
    if (nft.status !== 0) {
      return no(`nft in a namespace: no FTP conntrack helper or NAT (nf_conntrack_ftp, nf_nat_ftp, nft_numgen): ${String(nft.stderr).trim()}`);
    }
    return undefined;
  } finally {
    spawnSync('ip', ['netns', 'del', ns], { timeout: 10_000 });
  }
}

/** Why the IPVS variant cannot run here; undefined when the kernel has IPVS. */
export function ipvsMissing(): string | undefined {
  return existsSync('/proc/net/ip_vs') ? undefined : 'this kernel has no IPVS (/proc/net/ip_vs is missing: CONFIG_IP_VS, modprobe ip_vs ip_vs_ftp)';
}

// ───────────────────────────── the lab ─────────────────────────────

export interface LbOptions {
  variant: 'helper' | 'slices';
  spread: 'numgen' | 'jhash';
  servers: number;
  ftpPort: number;
  /** The whole passive range, "MIN-MAX"; the slices variant cuts it into one slice per server. */
  pasvRange: string;
  clientNet: string;
  serverNet: string;
}

export interface LbServerEnv {
  ns: string;
  addr: string;
  /** Its passive slice (the slices variant), "MIN-MAX". */
  slice: string;
}

export interface LbEnv {
  nsClient: string;
  nsLb: string;
  clientAddr: string;
  vip: string;
  ftpPort: number;
  pasvRange: string;
  servers: LbServerEnv[];
}

/** Removes labs of test runs that died (their pid is gone). */
export async function collectStaleLabs(): Promise<void> {
  await run(labScript, ['gc'], 60_000);
}

export class LbLab {
  private constructor(
    readonly prefix: string,
    readonly env: LbEnv,
  ) {}

  static async up(tag: string, opts: LbOptions): Promise<LbLab> {
    const prefix = `mxlb-${process.pid}-${tag}`;
    const up = await run(labScript, [
      '-p', prefix, 'up',
      '--variant', opts.variant,
      '--spread', opts.spread,
      '--servers', String(opts.servers),
      '--ftp-port', String(opts.ftpPort),
      '--pasv-range', opts.pasvRange,
      '--client-net', opts.clientNet,
      '--server-net', opts.serverNet,
    ], 60_000);
    if (up.code !== 0) {
      await run(labScript, ['-p', prefix, 'down'], 60_000);
      throw new Error(`lab.sh up failed: ${explain(up)}`);
    }
    const get = await readLabEnv(labScript, prefix);
    const servers: LbServerEnv[] = [];
    for (let i = 1; i <= opts.servers; i++) {
      servers.push({ ns: get(`LAB_NS_SRV${i}`), addr: get(`LAB_SRV${i}_ADDR`), slice: get(`LAB_SRV${i}_SLICE`) });
    }
    return new LbLab(prefix, {
      nsClient: get('LAB_NS_CLIENT'),
      nsLb: get('LAB_NS_LB'),
      clientAddr: get('LAB_CLIENT_ADDR'),
      vip: get('LAB_VIP'),
      ftpPort: Number(get('LAB_FTP_PORT')),
      pasvRange: get('LAB_PASV_RANGE'),
      servers,
    });
  }

  /** Runs a command inside the client namespace. */
  client(cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<RunResult> {
    return run('ip', ['netns', 'exec', this.env.nsClient, cmd, ...args], timeoutMs);
  }

  /** Puts only these servers (numbered from 1) in the balancer's map, in one nft transaction. */
  async backends(servers: readonly number[]): Promise<void> {
    const r = await run(labScript, ['-p', this.prefix, 'backends', servers.join(',')], 30_000);
    if (r.code !== 0) throw new Error(`lab.sh backends failed: ${explain(r)}`);
  }

  /** New control connections the balancer has spread so far (the counter of its DNAT rule). */
  async balanced(): Promise<number> {
    const r = await run('ip', ['netns', 'exec', this.env.nsLb, 'nft', 'list', 'chain', 'ip', 'mxlb', 'balance'], 10_000);
    const m = /dport \d+ counter packets (\d+)/.exec(r.stdout);
    if (r.code !== 0 || m === null) throw new Error(`no control DNAT counter: ${explain(r)}`);
    return Number(m[1]);
  }

  /** Deletes the namespaces (ending anything still inside them). Idempotent. */
  async down(): Promise<void> {
    const r = await run(labScript, ['-p', this.prefix, 'down'], 60_000);
    if (r.code !== 0) throw new Error(`lab.sh down failed: ${explain(r)}`);
  }
}

// ───────────────────────────── a server's counters ─────────────────────────────

export interface ServerCounts {
  /** muxftpd_sessions_total: control connections that became sessions. */
  sessions: number;
  /** muxftpd_commands_total by verb. */
  commands: Record<string, number>;
  /** muxftpd_transfers_total by result (ok, aborted, peerClosed, …). */
  transfers: Record<string, number>;
  /** muxftpd_data_connections_total by address class (docs/middlebox.md). */
  dataConnections: Record<string, number>;
}

/** Scrapes http://ADDR:PORT/metrics from inside the server's namespace. */
export async function scrape(ns: string, addr: string, metricsPort: number): Promise<ServerCounts> {
  const m = await scrapeMetrics(ns, `http://${addr}:${metricsPort}/metrics`);
  const sessions = m.get('muxftpd_sessions_total');
  if (sessions === undefined) throw new Error(`no muxftpd_sessions_total from ${addr}: ${[...m.keys()].join(' ').slice(0, 2000)}`);
  return {
    sessions,
    commands: byLabel(m, 'muxftpd_commands_total', 'verb'),
    transfers: byLabel(m, 'muxftpd_transfers_total', 'result'),
    dataConnections: byLabel(m, 'muxftpd_data_connections_total', 'class'),
  };
}
