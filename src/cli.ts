#!/usr/bin/env node
// The muxftpd command: flags and MUXFTPD_* variables → a running server.
import { helpText } from './config/help.js';
import { loadConfig, parseFlags } from './config/load.js';
import { packageVersion } from './config/package-root.js';
import { ConfigError, StartError } from './errors.js';
import { startServer } from './index.js';

async function main(argv: readonly string[]): Promise<void> {
  const parsed = parseFlags(argv);
  if (parsed.help) {
    process.stdout.write(helpText());
    return;
  }
  if (parsed.version) {
    process.stdout.write(`${await packageVersion()}\n`);
    return;
  }
  const config = await loadConfig({ env: process.env, flags: parsed.flags });
  const server = await startServer(config);
  const { address, port } = server.address;
  const host = address.includes(':') ? `[${address}]` : address;
  process.stdout.write(`muxftpd listening on ${host}:${port}, serving ${config.root} (${config.threads} threads)\n`);
  let stopping = false;
  const stop = (): void => {
    if (stopping) process.exit(1);
    stopping = true;
    server.close().then(
      () => process.exit(0),
      (e: unknown) => {
        process.stderr.write(`muxftpd: stopping failed: ${e instanceof Error ? e.message : String(e)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
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
