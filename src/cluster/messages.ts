// What the primary and its server processes say to each other over the IPC
// channel (advanced serialization: structured clone), declared once.
import type { Config } from '../config/settings.js';
import type { ServerHandle } from '../handle.js';
import type { LogFields, LogLevel } from '../log.js';
import type { ServerStats } from '../server.js';

/** The primary's first message: what this server process serves, and how. */
export interface StartMessage {
  type: 'start';
  config: Config;
  /** startServer({ commands }) given as a module specifier. */
  commands: string | undefined;
  /** Log lines go to the primary (its logger writes them) rather than to stderr. */
  forwardLog: boolean;
}

export type ToChild =
  | StartMessage
  | { type: 'stats'; id: number }
  | { type: 'drain'; timeoutMs: number }
  | { type: 'close' }
  | { type: 'reopen' }
  | { type: 'failure'; address: string; at: number };

export type ToPrimary =
  | { type: 'ready'; address: ServerHandle['address'] }
  | { type: 'startFailed'; kind: 'config' | 'start'; code: string | undefined; message: string }
  | { type: 'stats'; id: number; stats: ServerStats }
  | { type: 'log'; level: LogLevel; message: string; fields: LogFields | undefined }
  | { type: 'failure'; address: string; at: number };

/** The fd at which a server process finds the client ledger (stdio slot 4: 0-2, then the IPC channel). */
export const ledgerFdInChild = 4;
