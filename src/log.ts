// A minimal leveled logger writing one line per message to stderr; stdout is
// left to the CLI's own output.
export const logLevels = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];

export interface Logger {
  readonly level: LogLevel;
  error(message: string): void;
  warn(message: string): void;
  info(message: string): void;
  debug(message: string): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = stderrLine): Logger {
  const max = logLevels.indexOf(level);
  const at = (l: LogLevel) =>
    logLevels.indexOf(l) <= max ? (m: string) => write(`muxftpd ${l}: ${m}`) : () => {};
  return { level, error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') };
}

function stderrLine(line: string): void {
  process.stderr.write(line + '\n');
}
