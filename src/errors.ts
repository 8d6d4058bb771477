// The coded errors of muxftpd. Codes are stable strings (fastify, undici) so
// that callers and tests match on `code`, never on message text.
import { type Reply, type ReplyCode, reply } from './protocol/replies.js';

export type ConfigErrorCode = `MUXFTPD_ERR_${string}`;

/** A bad setting or option: the message is one line naming the flag and the value. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly code: ConfigErrorCode,
    message: string,
  ) {
    super(`${message} [${code}]`);
  }
}

/** startServer() could not start the engine (bind, epoll, threads). */
export class StartError extends Error {
  override readonly name = 'StartError';
  readonly code = 'MUXFTPD_ERR_START';
  constructor(message: string, options?: { cause: unknown }) {
    super(message, options);
  }
}

/**
 * A file operation answered for a session that was gone (engine.ts
 * isSessionGone): the client left, or the server stopped, before the
 * operation ran. Not a failure: the dispatcher answers it without a log line
 * above debug, and the connection, closed by then, sends nothing.
 */
export class SessionGone extends Error {
  override readonly name = 'SessionGone';
  readonly code = 'MUXFTPD_ERR_SESSION_GONE';
}

const ftpErrorBrand = Symbol.for('muxftpd.FtpError');

/**
 * Thrown by command handlers: the dispatcher turns it into the reply it
 * carries. Recognized by a brand, not by its class alone: a custom command
 * module may import another copy of this package (its own node_modules, or
 * the built dist/ beside sources run by a test), whose FtpError is another class.
 */
export class FtpError extends Error {
  override readonly name = 'FtpError';
  readonly [ftpErrorBrand] = true;

  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === 'object' && value !== null && (value as { [ftpErrorBrand]?: unknown })[ftpErrorBrand] === true;
  }

  constructor(
    readonly code: ReplyCode,
    readonly text: string,
  ) {
    super(`${code} ${text}`);
  }

  get reply(): Reply {
    return reply(this.code, this.text);
  }
}
