// Structured, leveled logging with pino: one JSON object per line on stderr
// (stdout is left to the CLI's own output). Messages stay plain sentences;
// what a program would filter on goes in `fields` (sid, peer, path, bytes…).
import { type DestinationStream, pino } from 'pino';

export const logLevels = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];

export type LogFields = Readonly<Record<string, string | number | boolean | null>>;

export interface Logger {
  readonly level: LogLevel;
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  /** Writes out what is buffered (before the process exits). */
  flush(): void;
}

/**
 * A logger at `level`. By default it writes to stderr through a buffered
 * asynchronous stream, so thousands of session lines a second cost the main
 * thread little; `write` (tests, embedding) gets each line without its newline.
 */
export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const stderr = write === undefined ? pino.destination({ fd: 2, sync: false, minLength: 4096 }) : undefined;
  const stream: DestinationStream = stderr ?? { write: (s) => write?.(s.trimEnd()) };
  const p = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stream);
  const at =
    (l: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      if (fields === undefined) p[l](message);
      else p[l](fields, message);
    };
  return {
    level,
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    flush: () => {
      try {
        stderr?.flushSync();
      } catch {
        // Not open yet, or stderr is gone: nothing more can be written anyway.
      }
    },
  };
}
