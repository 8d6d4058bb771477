// --help, generated from the settings table.
import { settingNames, settings } from './settings.js';

export function helpText(): string {
  const rows: [flag: string, text: string][] = settingNames.map((name) => {
    const s = settings[name];
    return [`${s.flag} <${s.type}>`, `${s.help} (default: ${s.defaultText}; env ${s.env})`];
  });
  rows.push(['--help, -h', 'show this help'], ['--version', 'show the version']);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  return [
    'Usage: muxftpd [options]',
    '',
    'An FTP server for Linux built to be hammered. Flags win over environment variables.',
    '',
    ...rows.map(([flag, text]) => `  ${flag.padEnd(width)}${text}`),
    '',
  ].join('\n');
}
