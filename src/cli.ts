#!/usr/bin/env -S node --max-semi-space-size=4
// The muxftpd command: flags and MUXFTPD_* variables → a running server.
import { hashPasswordFlag, printPasswordHash } from './auth/hash-command.js';
import { readConfigFile } from './config/file.js';
import { configText, helpText } from './config/help.js';
import { loadConfigWithOrigins, parseFlags } from './config/load.js';
import { packageVersion } from './config/package-root.js';
import { fingerprintOf } from './config/tls-material.js';
import { ConfigError, StartError } from './errors.js';
import { startServer } from './index.js';
import { onReopenSignal, onShutdownSignals } from './ops/shutdown.js';
import { startStatusLine } from './ops/status-line.js';

async function main(argv: readonly string[]): Promise<void> {
  if (argv.length === 1 && argv[0] === hashPasswordFlag) {
    await printPasswordHash(process.stdin, process.stdout);
    return;
  }
  const parsed = parseFlags(argv);
  if (parsed.help) {
    process.stdout.write(helpText());
    return;
  }
  if (parsed.version) {
    process.stdout.write(`${await packageVersion()}\n`);
    return;
  }
  const configFile = parsed.configFile ?? (process.env.MUXFTPD_CONFIG || undefined);
  const file = configFile === undefined ? undefined : await readConfigFile(configFile);
  const { config, origins } = await loadConfigWithOrigins({ env: process.env, flags: parsed.flags, file });
  if (parsed.printConfig) {
    process.stdout.write(configText(config, origins));
    return;
  }
  let status: ReturnType<typeof startStatusLine> | undefined;
  const starting = startServer(config);
  onShutdownSignals(starting, () => status?.stop());
  const server = await starting;
  const { address, port } = server.address;
  const host = address.includes(':') ? `[${address}]` : address;
  process.stdout.write(`muxftpd listening on ${host}:${port}, serving ${config.root} (${shape(config)})\n`);
  if (server.metrics !== undefined) process.stdout.write(`metrics on http://${host}:${server.metrics.port}/metrics\n`);
  if (server.config.tlsCert !== null) process.stdout.write(ftpsLine(host, server.address.implicitTlsPort, config.tlsCert === 'auto', server.config.tlsCert));
  // The live status line only on a terminal; piped or under a supervisor, stdout stays quiet.
  status = process.stdout.isTTY ? startStatusLine(server.stats, process.stdout) : undefined;
  onReopenSignal(server);
}

/** What a client needs to check the certificate: its SHA-256 fingerprint (one for every server process). */
function ftpsLine(host: string, implicitPort: number | undefined, auto: boolean, certPem: string): string {
  const implicit = implicitPort === undefined ? '' : `, implicit FTPS on ${host}:${implicitPort}`;
  const kind = auto ? 'self-signed certificate made at start' : 'certificate';
  return `FTPS: AUTH TLS${implicit}; ${kind}, SHA-256 fingerprint ${fingerprintOf(certPem)}\n`;
}

/** '4 threads', or '2 processes × 4 threads'. */
function shape(config: { processes: number; threads: number }): string {
  const threads = `${config.threads} thread${config.threads === 1 ? '' : 's'}`;
  return config.processes === 1 ? threads : `${config.processes} processes × ${threads}`;
}

main(process.argv.slice(2)).catch((e: unknown) => {
  if (e instanceof ConfigError) {
    process.stderr.write(`muxftpd: ${e.message}\n`);
    process.exitCode = 2;
  } else if (e instanceof StartError) {
    process.stderr.write(`muxftpd: ${e.message}\n`);
    process.exitCode = 1;
  } else {
    throw e;
  }
});
