// --pasv-address may name a host: it is resolved to an IPv4 address once, at
// start, so that no PASV reply ever waits for DNS.
import { lookup } from 'node:dns/promises';
import net from 'node:net';
import { ConfigError } from '../errors.js';
import { errorCode } from './load.js';
import { settings } from './settings.js';

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
