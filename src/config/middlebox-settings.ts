// The settings rows of the middlebox test instrument (issue 24, docs/middlebox.md):
// what PASV announces per client network, the names HOST accepts, and the
// reply shapes a tester can choose for the FTP helpers (ALGs) that parse them.
import net from 'node:net';
import type { Setting } from './settings.js';
import { integer, InvalidValue, oneOf, text } from './validators.js';

/** One --pasv-address-map entry: clients in `cidr` (an IPv4 network) are told `address`. */
export interface PasvMapEntry {
  readonly cidr: string;
  readonly address: string;
}

export type PasvReplyStyle = 'parens' | 'bare';

export interface MiddleboxConfig {
  pasvAddressMap: readonly PasvMapEntry[];
  hostNames: readonly string[];
  pasvReplyStyle: PasvReplyStyle;
  epsvDelimiter: string;
  splitReplyVerbs: readonly string[];
  splitReplyAt: number;
  splitReplyPauseMs: number;
}

/** A comma-separated list (flags, environment), or an array (a config file, startServer). */
function listOf(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.map((item) => text(item).trim());
  const s = text(raw).trim();
  return s === '' ? [] : s.split(',').map((item) => item.trim());
}

/** 'a.b.c.d/n' → the network (its host bits cleared) and the prefix length; undefined when malformed. */
export function parseIpv4Cidr(cidr: string): { network: number; bits: number } | undefined {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(cidr);
  if (m === null || !net.isIPv4(m[1] ?? '')) return undefined;
  const bits = Number(m[2]);
  if (bits > 32) return undefined;
  return { network: ipv4Number(m[1] as string) & mask(bits), bits };
}

export function ipv4Number(address: string): number {
  return address.split('.').reduce((n, part) => ((n << 8) | Number(part)) >>> 0, 0);
}

export function mask(bits: number): number {
  return bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
}

function pasvAddressMap(raw: unknown): readonly PasvMapEntry[] {
  if (raw === null) return [];
  const items = Array.isArray(raw) && raw.every((e) => typeof e === 'object' && e !== null) ? raw.map((e: Record<string, unknown>) => `${String(e.cidr)}=${String(e.address)}`) : listOf(raw);
  return items.map((item) => {
    const [cidr = '', address = '', extra] = item.split('=');
    if (extra !== undefined || parseIpv4Cidr(cidr) === undefined) {
      throw new InvalidValue(`bad entry ${JSON.stringify(item)}: must be CIDR=ADDR with an IPv4 network (e.g. 10.0.0.0/8=203.0.113.7)`);
    }
    if (!net.isIPv4(address)) throw new InvalidValue(`bad entry ${JSON.stringify(item)}: ADDR must be an IPv4 address`);
    return { cidr, address };
  });
}

/** RFC 1123 2.1 host names and IP literals, compared case-insensitively. */
function hostNames(raw: unknown): readonly string[] {
  return listOf(raw === null ? '' : raw).map((name) => {
    if (name === '' || /[\s,]/.test(name)) throw new InvalidValue(`bad name ${JSON.stringify(name)}`);
    return name.toLowerCase();
  });
}

function verbs(raw: unknown): readonly string[] {
  return listOf(raw === null ? '' : raw).map((verb) => {
    if (!/^[a-z]{3,4}$/i.test(verb)) throw new InvalidValue(`bad verb ${JSON.stringify(verb)}: must be an FTP command name`);
    return verb.toUpperCase();
  });
}

/** RFC 2428 3: the delimiter is a printable ASCII character (33-126); '|' is recommended. Digits would be read as the port. */
function delimiter(raw: unknown): string {
  const d = text(raw);
  if (d.length !== 1 || d < '!' || d > '~' || (d >= '0' && d <= '9')) throw new InvalidValue('must be one printable ASCII character other than a digit');
  return d;
}

export const middleboxSettings: { readonly [K in keyof MiddleboxConfig]: Setting<MiddleboxConfig[K]> } = {
  pasvAddressMap: {
    flag: '--pasv-address-map',
    env: 'MUXFTPD_PASV_ADDRESS_MAP',
    type: 'cidr=ipv4,…',
    default: [],
    defaultText: 'none',
    help: 'IPv4 address announced in PASV replies per client network, e.g. 10.0.0.0/8=10.0.0.1,0.0.0.0/0=203.0.113.7: the longest matching prefix wins; clients in none get --pasv-address (or the local address)',
    validate: pasvAddressMap,
  },
  hostNames: {
    flag: '--host-names',
    env: 'MUXFTPD_HOST_NAMES',
    type: 'name,…',
    default: [],
    defaultText: "none (HOST accepts the server's own addresses and names resolving to them)",
    help: "more names HOST (RFC 7151) accepts, besides the server's own addresses and names that resolve to them; others get 504",
    validate: hostNames,
  },
  pasvReplyStyle: {
    flag: '--pasv-reply-style',
    env: 'MUXFTPD_PASV_REPLY_STYLE',
    type: 'parens|bare',
    default: 'parens',
    defaultText: 'parens, as in (h1,h2,h3,h4,p1,p2)',
    help: "the 227 reply's address with or without parentheses (RFC 1123 4.1.2.6 lets clients find it either way; some FTP helpers do not)",
    validate: oneOf(['parens', 'bare'] as const),
  },
  epsvDelimiter: {
    flag: '--epsv-delimiter',
    env: 'MUXFTPD_EPSV_DELIMITER',
    type: 'char',
    default: '|',
    defaultText: '| (as RFC 2428 3 recommends)',
    help: 'the delimiter character of the 229 reply, (|||port|)',
    validate: delimiter,
  },
  splitReplyVerbs: {
    flag: '--split-reply-verbs',
    env: 'MUXFTPD_SPLIT_REPLY_VERBS',
    type: 'VERB,…',
    default: [],
    defaultText: 'none (off)',
    help: 'the final replies of these commands (e.g. PASV,EPSV) are written in two TCP segments, split at --split-reply-at with --split-reply-pause-ms between: a test of FTP helpers that must reassemble them',
    validate: verbs,
  },
  splitReplyAt: {
    flag: '--split-reply-at',
    env: 'MUXFTPD_SPLIT_REPLY_AT',
    type: 'bytes',
    default: 10,
    defaultText: '10 bytes',
    help: 'bytes of a split reply in its first segment (a shorter reply is not split)',
    validate: integer(1, 65535),
  },
  splitReplyPauseMs: {
    flag: '--split-reply-pause-ms',
    env: 'MUXFTPD_SPLIT_REPLY_PAUSE_MS',
    type: 'ms',
    default: 50,
    defaultText: '50 ms',
    help: 'pause between the two segments of a split reply',
    validate: integer(0, 60_000),
  },
};
