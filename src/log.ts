// Leveled logging on stderr (stdout is left to the CLI's own output): one
// JSON object per line with pino for programs and supervisors, or, for a
// person at a terminal, one short line (time, level, message, fields).
// Messages stay plain sentences; what a program would filter on goes in
// `fields` (sid, peer, path, bytes…).
import { type DestinationStream, pino } from 'pino';

export const logLevels = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];

export const logFormats = ['auto', 'json', 'pretty'] as const;
export type LogFormat = (typeof logFormats)[number];

/** 'auto' is pretty on a terminal and JSON elsewhere (a pipe, a file, a supervisor). */
export function resolveLogFormat(format: LogFormat, isTTY: boolean): 'json' | 'pretty' {
  return format === 'auto' ? (isTTY ? 'pretty' : 'json') : format;
}

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
export function createLogger(level: LogLevel, write?: (line: string) => void, format: 'json' | 'pretty' = 'json', shared = false): Logger {
  // `shared`: other processes write to the same stderr (--processes), so each
  // line is one write of its own, which a pipe or an O_APPEND file keeps whole.
  const stderr = write === undefined ? pino.destination(shared ? { fd: 2, sync: true } : { fd: 2, sync: false, minLength: 4096 }) : undefined;
  const stream: DestinationStream = stderr ?? { write: (s) => write?.(s.trimEnd()) };
  const at = format === 'pretty' ? prettyLines(level, stream, write === undefined && process.stderr.isTTY) : jsonLines(level, stream);
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

type LineWriter = (l: LogLevel) => (message: string, fields?: LogFields) => void;

function jsonLines(level: LogLevel, stream: DestinationStream): LineWriter {
  const p = pino({ level, base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stream);
  return (l) => (message, fields) => {
    if (fields === undefined) p[l](message);
    else p[l](fields, message);
  };
}

const rank: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * `14:03:07 WARN  message key=value …`. On a terminal each line first clears
 * the line it lands on, so the CLI's status line (redrawn every second on
 * stdout, the same terminal) never runs into a log line.
 */
function prettyLines(level: LogLevel, stream: DestinationStream, clear: boolean): LineWriter {
  const prefix = clear ? '\r\x1b[K' : '';
  return (l) => {
    if (rank[l] > rank[level]) return () => {};
    const tag = l.toUpperCase().padEnd(5);
    return (message, fields) => {
      const time = new Date().toISOString().slice(11, 19);
      const rest = fields === undefined ? '' : Object.entries(fields).map(([k, v]) => ` ${k}=${String(v)}`).join('');
      stream.write(`${prefix}${time} ${tag} ${message}${rest}\n`);
    };
  };
}
