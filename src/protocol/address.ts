// Data-connection address codecs: PORT and PASV (RFC 959 4.1.2, 4.2), EPRT
// and EPSV (RFC 2428 2, 3), and the address comparisons they need.
import net from 'node:net';
import { Code, type Reply, reply } from './replies.js';

export interface HostPort {
  host: string;
  port: number;
}

/** RFC 2428 network protocol numbers: 1 IPv4, 2 IPv6. */
export type NetProtocol = 1 | 2;

export type EprtResult = ({ ok: true; family: NetProtocol } & HostPort) | { ok: false; unsupported: boolean };

/** PORT h1,h2,h3,h4,p1,p2 → host and port; undefined when malformed. */
export function parsePortArg(arg: string): HostPort | undefined {
  const m = /^(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})$/.exec(arg.trim());
  if (m === null) return undefined;
  const n = m.slice(1).map(Number);
  if (n.some((x) => x > 255)) return undefined;
  const [h1, h2, h3, h4, p1, p2] = n as [number, number, number, number, number, number];
  return { host: `${h1}.${h2}.${h3}.${h4}`, port: p1 * 256 + p2 };
}

/**
 * EPRT <d><proto><d><addr><d><port><d>, where d is any printable ASCII
 * character but a digit (RFC 2428 2; '|' in practice). `unsupported` marks a
 * well-formed command naming a protocol other than 1 and 2 (reply 522).
 */
export function parseEprtArg(arg: string): EprtResult {
  const malformed = { ok: false, unsupported: false } as const;
  const d = arg.charAt(0);
  if (d === '' || d < '!' || d > '~' || (d >= '0' && d <= '9')) return malformed;
  const parts = arg.split(d);
  if (parts.length !== 5 || parts[0] !== '' || parts[4] !== '') return malformed;
  const [, proto, host = '', portText = ''] = parts;
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : 0;
  if (proto !== '1' && proto !== '2') {
    return /^\d+$/.test(proto ?? '') ? { ok: false, unsupported: true } : malformed;
  }
  const family: NetProtocol = proto === '1' ? 1 : 2;
  const valid = family === 1 ? net.isIPv4(host) : net.isIPv6(host);
  if (!valid || port < 1 || port > 65535) return malformed;
  return { ok: true, family, host, port };
}

/*
 * Passive replies are templates: the worker that opens the listener puts its
 * port in and sends the reply at once (native worker.cc FillPassivePort), so
 * PASV and EPSV cost one round trip to the worker, not two. %P stands for
 * the port in decimal, %H for PASV's "p1,p2". fillPassive is the same
 * substitution in TypeScript.
 */
/** 'bare': the address without parentheses, which RFC 1123 4.1.2.6 tells clients to expect too. */
export function pasvTemplate(ipv4: string, style: 'parens' | 'bare' = 'parens'): Reply {
  const h = `${ipv4.split('.').join(',')},%H`;
  return reply(Code.EnteringPassive, style === 'parens' ? `Entering Passive Mode (${h}).` : `Entering Passive Mode ${h}`);
}

/** RFC 2428 3: (<d><d><d><port><d>), where d is '|' unless the server chooses another. */
export function epsvTemplate(d = '|'): Reply {
  return reply(Code.EnteringExtendedPassive, `Entering Extended Passive Mode (${d}${d}${d}%P${d})`);
}

export function fillPassive(template: string, port: number): string {
  return template.replace('%H', `${port >> 8},${port & 255}`).replace('%P', String(port));
}

const mappedPrefix = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i;

let lastAddress: string | undefined;
let lastIpv4: string | undefined;

/** The IPv4 address of an IPv4 or IPv4-mapped IPv6 address, else undefined. */
export function ipv4Of(address: string): string | undefined {
  // Asked at every open and close with the same few addresses: the last answer is kept.
  if (address === lastAddress) return lastIpv4;
  const v4 = parseIpv4Of(address);
  lastAddress = address;
  lastIpv4 = v4;
  return v4;
}

function parseIpv4Of(address: string): string | undefined {
  if (net.isIPv4(address)) return address;
  const mapped = mappedPrefix.exec(address)?.[1];
  return mapped !== undefined && net.isIPv4(mapped) ? mapped : undefined;
}

/** The RFC 2428 protocol of a connection with this (local or peer) address. */
export function protocolOf(address: string): NetProtocol {
  return ipv4Of(address) === undefined ? 2 : 1;
}

/** Whether two addresses name the same host (IPv4-mapped and zone ids folded, IPv6 compared canonically). */
export function sameHost(a: string, b: string): boolean {
  return canonical(a) === canonical(b);
}

function canonical(address: string): string {
  const v4 = ipv4Of(address);
  if (v4 !== undefined) return v4;
  const noZone = address.replace(/%.*$/, '');
  if (!net.isIPv6(noZone)) return address;
  return new URL(`http://[${noZone}]/`).hostname;
}
