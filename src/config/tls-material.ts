// --tls-cert and --tls-key, resolved once at start: the PEM files read and
// checked (a certificate, an unencrypted key, and the key of that
// certificate), or the auto certificate made. The result replaces the two
// settings' values by their PEM text, so resolving again changes nothing and
// the server processes of --processes all serve the one certificate the
// primary read or made.
import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { loadBinding, type NativeTlsConfig } from '../engine/native.js';
import { ConfigError } from '../errors.js';
import { errorCode } from './load.js';
import { type Config, type Setting, settings } from './settings.js';
import { isPem, type TlsConfig } from './tls-settings.js';

/** The common name of the auto certificate. */
const autoCommonName = 'muxftpd';

export type TlsFiles = Pick<TlsConfig, 'tlsCert' | 'tlsKey'>;

export async function resolveTls(config: Readonly<Config>): Promise<TlsFiles> {
  const { tlsCert, tlsKey } = config;
  if (tlsCert === null) {
    for (const name of ['tlsKey', 'implicitTlsPort', 'tlsRequired'] as const) {
      if (config[name] !== null && config[name] !== false) throw bad(settings[name], config[name], 'needs --tls-cert');
    }
    return { tlsCert, tlsKey };
  }
  if (tlsCert === 'auto') {
    if (tlsKey !== null) throw bad(settings.tlsKey, tlsKey, '--tls-cert auto makes its own key: give no --tls-key');
    const made = loadBinding().makeSelfSignedCertificate(autoCommonName);
    return { tlsCert: made.cert, tlsKey: made.key };
  }
  const certPem = await pemOf(settings.tlsCert, tlsCert);
  // Without --tls-key, the key may follow the certificate in its file (as vsftpd's rsa_cert_file allows).
  const keyPem = tlsKey === null ? certPem : await pemOf(settings.tlsKey, tlsKey);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw bad(settings.tlsCert, tlsCert, 'holds no PEM certificate');
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch (e) {
    const where = tlsKey === null ? settings.tlsCert : settings.tlsKey;
    const why = tlsKey === null ? 'holds no private key: give --tls-key' : `holds no unencrypted PEM private key (${message(e)})`;
    throw bad(where, tlsKey ?? tlsCert, why);
  }
  if (!cert.checkPrivateKey(key)) throw bad(settings.tlsKey, tlsKey ?? tlsCert, "is not the key of --tls-cert's certificate");
  return { tlsCert: certPem, tlsKey: key.export({ type: 'pkcs8', format: 'pem' }).toString() };
}

/** The engine's TLS configuration of a resolved config; undefined without --tls-cert. */
export function nativeTlsOf(config: Readonly<Config>): NativeTlsConfig | undefined {
  const { tlsCert: cert, tlsKey: key } = config;
  if (cert === null || key === null) return undefined;
  if (!isPem(cert) || !isPem(key)) throw new Error('the TLS settings were not resolved (resolveConfig)');
  const implicit = config.implicitTlsPort === null ? {} : { implicitPort: config.implicitTlsPort };
  return { cert, key, sessionReuse: config.tlsSessionReuse, ktls: config.ktls, ...implicit };
}

/** The SHA-256 fingerprint of the first certificate of a PEM text ('AB:CD:…'), as the CLI prints it at start. */
export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

async function pemOf(setting: Setting<string | null>, value: string): Promise<string> {
  if (isPem(value)) return value;
  try {
    return await readFile(value, 'utf8');
  } catch (e) {
    throw bad(setting, value, `cannot read it (${(e as NodeJS.ErrnoException).code ?? message(e)})`);
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A ConfigError naming the flag; PEM text is not echoed, only said to be PEM. */
function bad(setting: Setting<unknown>, value: unknown, reason: string): ConfigError {
  const shown = typeof value === 'string' && isPem(value) ? '(PEM text)' : JSON.stringify(value);
  return new ConfigError(errorCode(setting), `bad ${setting.flag} ${shown}: ${reason}`);
}
