// What PASV announces: --pasv-address (a host name is resolved to an IPv4
// address once, at start, so that no PASV reply ever waits for DNS), or the
// --pasv-address-map entry for the client's network.
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { ConfigError } from '../errors.js';
import { errorCode } from './load.js';
import { ipv4Of } from '../protocol/address.js';
import { ipv4Number, mask, type PasvMapEntry, parseIpv4Cidr } from './middlebox-settings.js';
import { type Config, settings } from './settings.js';

export async function resolvePasvAddress(value: string | null): Promise<string | null> {
  if (value === null || net.isIPv4(value)) return value;
  try {
    return (await lookup(value, { family: 4 })).address;
  } catch (e) {
    const reason = e instanceof Error && 'code' in e ? String(e.code) : String(e);
    const flag = settings.pasvAddress.flag;
    throw new ConfigError(errorCode(settings.pasvAddress), `bad ${flag} ${JSON.stringify(value)}: no IPv4 address (${reason})`);
  }
}

/** --pasv-address-map compiled: longest prefix first. */
interface CompiledEntry {
  network: number;
  mask: number;
  address: string;
}

const compiled = new WeakMap<readonly PasvMapEntry[], CompiledEntry[]>();

function compile(map: readonly PasvMapEntry[]): CompiledEntry[] {
  let entries = compiled.get(map);
  if (entries === undefined) {
    entries = map
      .map(({ cidr, address }) => {
        const { network, bits } = parseIpv4Cidr(cidr) ?? { network: 0, bits: -1 };
        return { network, bits, mask: mask(Math.max(bits, 0)), address };
      })
      .filter((e) => e.bits >= 0)
      .sort((a, b) => b.bits - a.bits);
    compiled.set(map, entries);
  }
  return entries;
}

/**
 * The IPv4 address PASV announces to a client: the --pasv-address-map entry
 * with the longest prefix holding the client's address, else --pasv-address,
 * else the control connection's local address.
 */
export function announcedPasvAddress(config: Pick<Config, 'pasvAddressMap' | 'pasvAddress'>, peer: string, localIpv4: string): string {
  const v4 = config.pasvAddressMap.length === 0 ? undefined : ipv4Of(peer);
  if (v4 !== undefined) {
    const n = ipv4Number(v4);
    for (const e of compile(config.pasvAddressMap)) if (((n & e.mask) >>> 0) === e.network) return e.address;
  }
  return config.pasvAddress ?? localIpv4;
}
