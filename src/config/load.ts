// Builds a Config from its layers: defaults < startServer options < environment
// < command-line flags. Each value goes through its row's validate(); a bad one
// becomes a ConfigError naming the flag, the value and where it came from.
import { parseArgs } from 'node:util';
import { ConfigError, type ConfigErrorCode } from '../errors.js';
import {
  type Config,
  defaultConfig,
  InvalidValue,
  type Setting,
  type SettingName,
  settingNames,
  settings,
} from './settings.js';

export interface ConfigSources {
  /** startServer() options, typed values or their string forms. */
  options?: Readonly<Record<string, unknown>>;
  env?: Readonly<Record<string, string | undefined>>;
  /** Flag values by setting name, as parseFlags() returns them. */
  flags?: Readonly<Partial<Record<SettingName, string>>>;
}

export interface ParsedFlags {
  flags: Partial<Record<SettingName, string>>;
  help: boolean;
  version: boolean;
}

export function errorCode(setting: Setting<unknown>): ConfigErrorCode {
  return `MUXFTPD_ERR_BAD_${setting.env.slice('MUXFTPD_'.length)}`;
}

export async function loadConfig(sources: ConfigSources): Promise<Config> {
  const config = defaultConfig();
  for (const key of Object.keys(sources.options ?? {})) {
    if (!(settingNames as string[]).includes(key)) {
      throw new ConfigError('MUXFTPD_ERR_UNKNOWN_OPTION', `unknown option ${JSON.stringify(key)}`);
    }
  }
  for (const name of settingNames) {
    const setting: Setting<unknown> = settings[name];
    const envValue = sources.env?.[setting.env];
    const flagValue = sources.flags?.[name];
    const optionValue = sources.options?.[name];
    if (flagValue !== undefined) set(config, name, flagValue, 'flag');
    else if (envValue !== undefined && envValue !== '') set(config, name, envValue, `from ${setting.env}`);
    else if (optionValue !== undefined) set(config, name, optionValue, `option ${name}`);
  }
  for (const name of settingNames) {
    const setting: Setting<unknown> = settings[name];
    const reason = await setting.verify?.(config[name]);
    if (reason !== undefined) throw bad(setting, config[name], 'resolved', reason);
  }
  return config;
}

/** Splits argv into setting flags, --help and --version; anything else is a ConfigError. */
export function parseFlags(argv: readonly string[]): ParsedFlags {
  const byFlag = new Map(settingNames.map((name) => [settings[name].flag.slice(2), name]));
  const { tokens } = parseArgs({
    args: [...argv],
    options: {
      ...Object.fromEntries([...byFlag.keys()].map((f) => [f, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const parsed: ParsedFlags = { flags: {}, help: false, version: false };
  for (const token of tokens) {
    if (token.kind === 'positional') {
      throw new ConfigError('MUXFTPD_ERR_UNKNOWN_FLAG', `unexpected argument ${JSON.stringify(token.value)}`);
    }
    if (token.kind !== 'option') continue;
    if (token.name === 'help' || token.name === 'version') {
      parsed[token.name] = true;
      continue;
    }
    const name = byFlag.get(token.name);
    if (name === undefined) {
      throw new ConfigError('MUXFTPD_ERR_UNKNOWN_FLAG', `unknown flag ${token.rawName} (see --help)`);
    }
    if (token.value === undefined) {
      throw new ConfigError(errorCode(settings[name]), `${token.rawName} needs a value`);
    }
    parsed.flags[name] = token.value;
  }
  return parsed;
}

function set(config: Config, name: SettingName, raw: unknown, origin: string): void {
  const setting: Setting<unknown> = settings[name];
  try {
    (config as Record<SettingName, unknown>)[name] = setting.validate(raw);
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
