// Runs one command: the table's generic checks in a fixed order, then the
// handler. A pending RNFR is forgotten unless the row keeps it (RNTO); then
// unknown → 502, a data command while the server drains → 421 and close,
// argument → 501, login → 530, state → its refusal (503 unless the row says
// otherwise), write permission → 550, then the handler. A handler's FtpError
// becomes its reply; a SessionGone (its client left meanwhile) a 421 that
// the closed connection drops; any other exception becomes 451 and a log
// line, never 500 and never a crash. A handler returning a plain Reply is
// answered without allocating a Promise; a handler's promise is passed on as
// it is (one promise less per command), and its rejection is for the caller
// to map with failureReply.
import { FtpError, SessionGone } from '../errors.js';
import { closingReply, Code, type Reply, reply } from '../protocol/replies.js';
import type { ArgRule, CommandContext, CommandSpec } from './types.js';

const notImplemented = reply(Code.NotImplemented, 'Command not implemented.');
const argMissing = reply(Code.SyntaxErrorArgs, 'Syntax error: command needs an argument.');
const argUnexpected = reply(Code.SyntaxErrorArgs, 'Syntax error: command takes no argument.');
const notLoggedIn = reply(Code.NotLoggedIn, 'Please login with USER and PASS.');
const readOnly = reply(Code.FileUnavailable, 'Permission denied: this session is read-only.');
const localError = reply(Code.LocalError, 'Requested action aborted: local error in processing.');
const sessionGone = closingReply(Code.ServiceNotAvailable, 'Session closed.');
/**
 * RFC 959 4.2: 421 "may be a reply to any command if the service knows it
 * must shut down". A 425 or 450 would invite the client to retry on a server
 * that is about to close; 421 tells it to go elsewhere now.
 */
const noNewTransfers = closingReply(Code.ServiceNotAvailable, 'Server shutting down; no new transfers. Closing control connection.');

export function dispatch(
  ctx: CommandContext,
  verb: string,
  arg: string,
  spec: CommandSpec | undefined,
): Reply | Promise<Reply> {
  if (spec?.keepsRenameFrom !== true) ctx.session.renameFrom = null;
  if (spec === undefined) return notImplemented;
  if (spec.data === true && ctx.draining) return noNewTransfers;
  try {
    const argRefusal = checkArg(spec.arg, arg);
    if (argRefusal !== undefined) return argRefusal;
    if (spec.auth && !ctx.session.loggedIn) return notLoggedIn;
    const stateRefusal = spec.state?.(ctx.session);
    if (stateRefusal !== undefined) return stateRefusal;
    if (spec.perm === 'write' && !ctx.session.writable) return readOnly;
    return spec.handler(ctx, arg);
  } catch (e) {
    return failureReply(ctx, verb, e);
  }
}

function checkArg(rule: ArgRule, arg: string): Reply | undefined {
  switch (rule) {
    case 'none':
      return arg === '' ? undefined : argUnexpected;
    case 'required':
      return arg === '' ? argMissing : undefined;
    case 'optional':
      return undefined;
    default: {
      const text = rule(arg);
      return text === undefined ? undefined : reply(Code.SyntaxErrorArgs, text);
    }
  }
}

/**
 * The reply to a handler's throw or rejection: its FtpError's reply; for a
 * session already gone, a closing 421 that no one will read, logged at debug
 * only; else 451 and a log line.
 */
export function failureReply(ctx: CommandContext, verb: string, e: unknown): Reply {
  if (e instanceof FtpError) return e.reply;
  if (e instanceof SessionGone) {
    ctx.log.debug(`session ${ctx.session.sid}: ${verb}: ${e.message}`);
    return sessionGone;
  }
  const detail = e instanceof Error ? (e.stack ?? e.message) : String(e);
  ctx.log.error(`session ${ctx.session.sid}: ${verb} failed: ${detail}`);
  return localError;
}
