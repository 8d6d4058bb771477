// The addresses an FTP conversation carries, as the probes read and write
// them: PORT/EPRT arguments, 227/229 replies, the 225 replies of ESTA/ESTP
// (pure-ftpd's "225 Connected from (|1|addr|port|)"), STAT's "Connected to
// ADDR" line (the control peer the server sees) and its "Active mode, to
// ADDR port N" line (where the server's data connection goes). Pure functions.
import net from 'node:net';

export interface Endpoint {
  host: string;
  port: number;
}

/** IPv4-mapped IPv6 ("::ffff:1.2.3.4") as the IPv4 address; others unchanged. */
export function plainHost(host: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  return m?.[1] ?? host;
}

export function sameHost(a: string, b: string): boolean {
  return plainHost(a).toLowerCase() === plainHost(b).toLowerCase();
}

/** "1.2.3.4:21", "[2001:db8::1]:21". */
export function showEndpoint(e: Endpoint): string {
  const host = plainHost(e.host);
  return net.isIPv6(host) ? `[${host}]:${e.port}` : `${host}:${e.port}`;
}

/** "h1,h2,h3,h4,p1,p2"; IPv4 only. */
export function portArgument(e: Endpoint): string {
  const host = plainHost(e.host);
  if (!net.isIPv4(host)) throw new Error(`PORT needs an IPv4 address, got ${e.host}`);
  return `${host.split('.').join(',')},${e.port >> 8},${e.port & 255}`;
}

/** "|1|host|port|" or "|2|host|port|" (RFC 2428 2). */
export function eprtArgument(e: Endpoint): string {
  const host = plainHost(e.host);
  return `|${net.isIPv6(host) ? 2 : 1}|${host}|${e.port}|`;
}

/** The address and port of a 227 reply (parentheses optional, RFC 1123 4.1.2.6), or null. */
export function parsePasvReply(text: string): Endpoint | null {
  const m = /(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3}),(\d{1,3})/.exec(text.slice(4));
  if (m === null) return null;
  const n = m.slice(1).map(Number);
  if (n.some((x) => x > 255)) return null;
  return { host: n.slice(0, 4).join('.'), port: (n[4] ?? 0) * 256 + (n[5] ?? 0) };
}

/** The port of a 229 reply "(|||port|)" (any delimiter), or null. */
export function parseEpsvReply(text: string): number | null {
  const m = /\((.)\1\1(\d{1,5})\1\)/.exec(text);
  const port = m ? Number(m[2]) : 0;
  return port >= 1 && port <= 65535 ? port : null;
}

/**
 * An RFC 2428-style "(|1|addr|port|)" anywhere in a reply: ESTA's and ESTP's
 * 225, or a refusal that names the address it got. Null when there is none.
 */
export function parseExtendedAddress(text: string): Endpoint | null {
  const m = /\((.)([12])\1([0-9A-Fa-f:.]+)\1(\d{1,5})\1\)/.exec(text);
  if (m === null) return null;
  const host = m[3] ?? '';
  if (!net.isIP(host)) return null;
  return { host, port: Number(m[4]) };
}

/** The control peer the server sees, from STAT's "Connected to ADDR" (muxftpd, vsftpd), or null. */
export function parseStatPeer(lines: readonly string[]): string | null {
  for (const line of lines) {
    const m = /Connected to (?:\[)?([0-9A-Fa-f:.]+?)(?:\])?(?:[\s,)]|$)/.exec(line);
    if (m?.[1] !== undefined && net.isIP(m[1])) return m[1];
  }
  return null;
}

/** Where the server's active data connection goes, from STAT's "Active mode, to ADDR port N" (muxftpd), or null. */
export function parseStatActiveTarget(lines: readonly string[]): Endpoint | null {
  for (const line of lines) {
    const m = /Active mode, to ([0-9A-Fa-f:.]+) port (\d{1,5})\b/.exec(line);
    if (m?.[1] !== undefined && net.isIP(m[1])) return { host: m[1], port: Number(m[2]) };
  }
  return null;
}
