// USER, PASS, QUIT. Any user name and password are accepted (anonymous server).
import { Code, type Reply, reply } from '../../protocol/replies.js';
import type { CommandContext } from '../types.js';

const needPassword = reply(Code.NeedPassword, 'Please specify the password.');
const loggedIn = reply(Code.LoggedIn, 'Login successful.');
const alreadyLoggedIn = reply(Code.LoggedIn, 'Already logged in.');
const goodbye: Reply = { code: Code.ClosingControl, text: 'Goodbye.', close: true };

/** RFC 959 4.1.1: USER starts a new login, even in the middle of a session. */
export function user(ctx: CommandContext, arg: string): Reply {
  ctx.session.user = arg;
  ctx.session.loggedIn = false;
  return needPassword;
}

export function pass(ctx: CommandContext): Reply {
  if (ctx.session.loggedIn) return alreadyLoggedIn;
  ctx.session.loggedIn = true;
  return loggedIn;
}

/** 221, then the engine flushes the reply and closes the connection (and any transfer). */
export function quit(): Reply {
  return goodbye;
}
