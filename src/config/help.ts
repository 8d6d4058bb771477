// --help, generated from the settings table.
import type { Origins } from './load.js';
import { type Config, settingNames, settings } from './settings.js';

export function helpText(): string {
  const rows: [flag: string, text: string][] = settingNames.map((name) => {
    const s = settings[name];
    return [`${s.flag} <${s.type}>`, `${s.help} (default: ${s.defaultText}; env ${s.env})`];
  });
  rows.push(
    ['--config <file>', 'read settings from a JSON file (keys: setting names, e.g. "maxPerIp"; env MUXFTPD_CONFIG)'],
    ['--print-config', 'print every setting in force and where it came from, then exit'],
    ['--hash-password', 'read a password from stdin, print its scrypt hash for a --users line, then exit (alone)'],
    ['--help, -h', 'show this help'],
    ['--version', 'show the version'],
  );
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    'Usage: muxftpd [options]',
    '',
    'An FTP server for Linux built to be hammered. Flags win over environment variables, which win over --config.',
    '',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`),
    '',
  ].join('\n');
}

/** --print-config: every setting's value in force and where it came from. */
export function configText(config: Readonly<Config>, origins: Readonly<Origins>): string {
  const rows = settingNames.map((name) => [settings[name].flag, JSON.stringify(config[name]), origins[name]] as const);
  const w0 = Math.max(...rows.map((r) => r[0].length)) + 2;
  const w1 = Math.max(...rows.map((r) => r[1].length)) + 2;
  return rows.map(([flag, value, origin]) => `${flag.padEnd(w0)}${value.padEnd(w1)}${origin}`).join('\n') + '\n';
}
