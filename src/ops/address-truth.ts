// The address truth of data connections (issue 24, docs/middlebox.md): what
// the control peer is, what the data command said (PORT/EPRT's argument, or
// the address and port PASV/EPSV announced) and who actually came or was
// reached, folded into one class per data connection, which the counters
// count and the log reports when it is a mismatch (at a bounded rate).
import net from 'node:net';
import type { Endpoint } from '../engine/engine.js';
import type { Logger } from '../log.js';
import { type HostPort, ipv4Of, sameHost } from '../protocol/address.js';

export const dataAddressClasses = [
  /** PORT/EPRT named the control peer: no NAT, or one whose helper rewrote it right. */
  'activeAsSeen',
  /** PORT/EPRT named another, private-scope address, or one the server could not reach: a helper that did not rewrite it. */
  'activeNotRewritten',
  /** PORT/EPRT named another public address, which the server reached (or would have, past --allow-foreign-data): rewritten, but not to the control peer. */
  'activeRewrittenElsewhere',
  /** The passive data connection came from the control peer. */
  'passiveControlPeer',
  /** A connection to a passive port came from another host and was refused (a port thief, or a NAT that changed the source). */
  'passiveForeignRefused',
] as const;
export type DataAddressClass = (typeof dataAddressClasses)[number];

/** What the session's last data command said, kept until the next one (a transfer takes the setup, not this). */
export type DataTruth =
  | { readonly mode: 'active'; readonly said: HostPort; classified: boolean }
  | { readonly mode: 'passive'; announced: HostPort; classified: boolean };

/** RFC 1918, RFC 6598 (shared NAT space), loopback and link-local; IPv6 ULA, loopback and link-local. */
const privateScope = new net.BlockList();
for (const [network, bits] of [['10.0.0.0', 8], ['172.16.0.0', 12], ['192.168.0.0', 16], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16]] as const) {
  privateScope.addSubnet(network, bits, 'ipv4');
}
for (const [network, bits] of [['fc00::', 7], ['fe80::', 10], ['::1', 128]] as const) privateScope.addSubnet(network, bits, 'ipv6');

export function isPrivateScope(address: string): boolean {
  const v4 = ipv4Of(address);
  if (v4 !== undefined) return privateScope.check(v4, 'ipv4');
  return net.isIPv6(address) && privateScope.check(address.replace(/%.*$/, ''), 'ipv6');
}

/**
 * An active data connection's class. `outcome`: the server connected to the
 * target, the connect failed, or the PORT was refused as a bounce before any
 * connect (then the address alone decides).
 */
export function classifyActive(said: string, controlPeer: string, outcome: 'connected' | 'failed' | 'refused'): DataAddressClass {
  if (sameHost(said, controlPeer)) return 'activeAsSeen';
  if (outcome === 'failed' || isPrivateScope(said)) return 'activeNotRewritten';
  return 'activeRewrittenElsewhere';
}

export function isMismatch(c: DataAddressClass): boolean {
  return c !== 'activeAsSeen' && c !== 'passiveControlPeer';
}

const show = (e: Endpoint | HostPort): string => {
  const host = 'address' in e ? e.address : e.host;
  return host.includes(':') ? `[${host}]:${e.port}` : `${host}:${e.port}`;
};

export { show as showEndpoint };

/**
 * Mismatch log lines, at most `perWindow` per `windowMs`: a NAT that gets
 * every PORT wrong under load must not flood the log. What a window leaves
 * out is said in one line when the next one opens.
 */
export class MismatchLog {
  private windowEnd = 0;
  private written = 0;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly perWindow = 10,
    private readonly windowMs = 10_000,
  ) {}

  note(message: string, fields: Readonly<Record<string, string | number>>, now = Date.now()): void {
    if (now >= this.windowEnd) {
      if (this.suppressed > 0) this.log.warn(`${this.suppressed} more data address mismatches not logged (see stats().dataAddresses)`);
      this.windowEnd = now + this.windowMs;
      this.written = 0;
      this.suppressed = 0;
    }
    if (this.written >= this.perWindow) {
      this.suppressed += 1;
      return;
    }
    this.written += 1;
    this.log.warn(message, fields);
  }
}
