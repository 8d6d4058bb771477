// The coded errors of muxftpd. Codes are stable strings (fastify, undici) so
// that callers and tests match on `code`, never on message text.
import type { Reply, ReplyCode } from './protocol/replies.js';

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

/** Thrown by command handlers: the dispatcher turns it into the reply it carries. */
export class FtpError extends Error {
  override readonly name = 'FtpError';
  constructor(
    readonly code: ReplyCode,
    readonly text: string,
  ) {
    super(`${code} ${text}`);
  }

  get reply(): Reply {
    return { code: this.code, text: this.text };
  }
}
