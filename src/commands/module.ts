// A command table given as a module specifier (--commands, or
// startServer({ commands: './my-commands.js' })): its default export, or its
// `commands` export, is the table. A specifier rather than an object is what
// a decider in another thread or process can load for itself.
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../errors.js';
import type { CommandOverrides } from './types.js';

/** A path (relative to the working directory) or a package name → its command table. */
export async function loadCommandModule(specifier: string): Promise<CommandOverrides> {
  const isPath = specifier.startsWith('.') || path.isAbsolute(specifier);
  const url = isPath ? pathToFileURL(path.resolve(specifier)).href : specifier;
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw new ConfigError('MUXFTPD_ERR_BAD_COMMANDS', `--commands ${specifier}: cannot load it: ${e instanceof Error ? e.message : String(e)}`);
  }
  const table = loaded.default ?? loaded.commands;
  if (typeof table !== 'object' || table === null || Array.isArray(table)) {
    throw new ConfigError('MUXFTPD_ERR_BAD_COMMANDS', `--commands ${specifier}: its default export (or 'commands') must be a command table`);
  }
  // Each row is checked by buildRegistry, as rows given as an object are.
  return table as CommandOverrides;
}
