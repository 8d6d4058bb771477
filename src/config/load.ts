// Builds a Config from its layers: defaults < startServer options < config
// file < environment < command-line flags, recording where each value came
// from. Each value goes through its row's validate(); a bad one becomes a
// ConfigError naming the flag, the value and where it came from.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { ConfigError, type ConfigErrorCode } from '../errors.js';
import {
  type Config,
  defaultConfig,
  defaultThreads,
  InvalidValue,
  type Setting,
  type SettingName,
  settingNames,
  settings,
} from './settings.js';

export interface ConfigSources {
  /** startServer() options, typed values or their string forms. */
  options?: Readonly<Record<string, unknown>>;
  /** A --config file's object (setting names as keys), and its path for messages. */
  file?: { path: string; values: Readonly<Record<string, unknown>> };
  env?: Readonly<Record<string, string | undefined>>;
  /** Flag values by setting name, as parseFlags() returns them. */
  flags?: Readonly<Partial<Record<SettingName, string>>>;
}

export interface ParsedFlags {
  flags: Partial<Record<SettingName, string>>;
  help: boolean;
  version: boolean;
  printConfig: boolean;
  /** --config FILE. */
  configFile: string | undefined;
}

/** Where a value came from: 'default', 'option', 'file', 'env MUXFTPD_X' or 'flag'. */
export type Origins = Record<SettingName, string>;

export function errorCode(setting: Setting<unknown>): ConfigErrorCode {
  return `MUXFTPD_ERR_BAD_${setting.env.slice('MUXFTPD_'.length)}`;
}

export async function loadConfig(sources: ConfigSources): Promise<Config> {
  return (await loadConfigWithOrigins(sources)).config;
}

export async function loadConfigWithOrigins(sources: ConfigSources): Promise<{ config: Config; origins: Origins }> {
  const config = defaultConfig();
  const origins = Object.fromEntries(settingNames.map((n) => [n, 'default'])) as Origins;
  checkKeys(sources.options, 'MUXFTPD_ERR_UNKNOWN_OPTION', 'option');
  checkKeys(sources.file?.values, 'MUXFTPD_ERR_BAD_CONFIG_FILE', `key in ${sources.file?.path ?? ''}:`);
  for (const name of settingNames) {
    const setting: Setting<unknown> = settings[name];
    const envValue = sources.env?.[setting.env];
    const flagValue = sources.flags?.[name];
    const fileValue = sources.file?.values[name];
    const optionValue = sources.options?.[name];
    if (flagValue !== undefined) origins[name] = set(config, name, flagValue, 'flag', 'flag');
    else if (envValue !== undefined && envValue !== '') {
      origins[name] = set(config, name, envValue, `from ${setting.env}`, `env ${setting.env}`);
    } else if (fileValue !== undefined) origins[name] = set(config, name, fileValue, `in ${sources.file?.path ?? ''}`, 'file');
    else if (optionValue !== undefined) origins[name] = set(config, name, optionValue, `option ${name}`, 'option');
  }
  // The one default that depends on another setting.
  if (origins.threads === 'default') config.threads = defaultThreads(os.availableParallelism(), config.processes);
  for (const name of settingNames) {
    const setting: Setting<unknown> = settings[name];
    const reason = await setting.verify?.(config[name]);
    if (reason !== undefined) throw bad(setting, config[name], 'resolved', reason);
  }
  return { config, origins };
}

function checkKeys(values: Readonly<Record<string, unknown>> | undefined, code: ConfigErrorCode, what: string): void {
  for (const key of Object.keys(values ?? {})) {
    if (!(settingNames as string[]).includes(key)) throw new ConfigError(code, `unknown ${what} ${JSON.stringify(key)}`);
  }
}

/** Splits argv into setting flags, --help and --version; anything else is a ConfigError. */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const byFlag = new Map(settingNames.map((name) => [settings[name].flag.slice(2), name]));
  const { tokens } = parseArgs({
    args: [...argv],
    options: {
      ...Object.fromEntries(
        [...byFlag].map(([f, name]) => [f, { type: settings[name].boolean === true ? ('boolean' as const) : ('string' as const) }]),
      ),
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
      'print-config': { type: 'boolean' },
      config: { type: 'string' },
    },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const parsed: ParsedFlags = { flags: {}, help: false, version: false, printConfig: false, configFile: undefined };
  for (const token of tokens) {
    if (token.kind === 'positional') {
      throw new ConfigError('MUXFTPD_ERR_UNKNOWN_FLAG', `unexpected argument ${JSON.stringify(token.value)}`);
    }
    if (token.kind !== 'option') continue;
    if (token.name === 'help' || token.name === 'version') {
      parsed[token.name] = true;
      continue;
    }
    if (token.name === 'print-config') {
      parsed.printConfig = true;
      continue;
    }
    if (token.name === 'config') {
      if (token.value === undefined || token.value === '') throw new ConfigError('MUXFTPD_ERR_BAD_CONFIG_FILE', '--config needs a file');
      parsed.configFile = token.value;
      continue;
    }
    const name = byFlag.get(token.name);
    if (name === undefined) {
      throw new ConfigError('MUXFTPD_ERR_UNKNOWN_FLAG', `unknown flag ${token.rawName} (see --help)`);
    }
    if (token.value === undefined && settings[name].boolean === true) {
      parsed.flags[name] = 'true';
      continue;
    }
    if (token.value === undefined) {
      throw new ConfigError(errorCode(settings[name]), `${token.rawName} needs a value`);
    }
    parsed.flags[name] = token.value;
  }
  return parsed;
}

/** Sets one value; returns `source` (what --print-config shows). */
function set(config: Config, name: SettingName, raw: unknown, origin: string, source: string): string {
  const setting: Setting<unknown> = settings[name];
  try {
    (config as Record<SettingName, unknown>)[name] = setting.validate(raw);
    return source;
  } catch (e) {
    if (e instanceof InvalidValue) throw bad(setting, raw, origin, e.message);
    throw e;
  }
}

function bad(setting: Setting<unknown>, raw: unknown, origin: string, reason: string): ConfigError {
  const shown = typeof raw === 'string' ? JSON.stringify(raw.length > 80 ? raw.slice(0, 80) + '…' : raw) : String(JSON.stringify(raw));
  const from = origin === 'flag' ? '' : ` (${origin})`;
  return new ConfigError(errorCode(setting), `bad ${setting.flag} ${shown}${from}: ${reason}`);
}
