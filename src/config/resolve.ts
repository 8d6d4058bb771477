// What start-up resolves once a Config is loaded: the served root's real path
// (the operator's setting, never a client's path), --pasv-address's host
// name, and --tls-cert/--tls-key's PEM text (read, checked, or the auto
// certificate made). Idempotent, so a server process given a resolved config
// may run it again.
import { realpath } from 'node:fs/promises';
import { resolvePasvAddress } from './pasv-address.js';
import type { Config } from './settings.js';
import { resolveTls } from './tls-material.js';

export async function resolveConfig(loaded: Readonly<Config>): Promise<Readonly<Config>> {
  return {
    ...loaded,
    root: await realpath(loaded.root),
    pasvAddress: await resolvePasvAddress(loaded.pasvAddress),
    ...(await resolveTls(loaded)),
  };
}
