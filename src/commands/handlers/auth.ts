// USER, PASS, QUIT. A name of the accounts file (--users) logs in with its
// password, into its home, read-only or writable as its line says. Any other
// name logs in anonymously (any password, the whole root, writable with
// --writable) unless --no-anonymous. Passwords are checked on the server's
// password threads (auth/logins.ts), never on libuv's pool. A failed login is
// answered after --login-fail-delay, with the same 530 whether the name
// exists or not; the failed-login caps and a full queue of checks answer 421
// and close the connection (RFC 959 4.2: 421 is the one transient reply PASS
// may get, and it closes; a 530 would tell the client its password is wrong).
import { setTimeout as sleep } from 'node:timers/promises';
import type { Account } from '../../auth/accounts.js';
import type { LoginVerdict } from '../../auth/logins.js';
import { SessionGone } from '../../errors.js';
import { closingReply, Code, type Reply, reply } from '../../protocol/replies.js';
import type { CommandContext } from '../types.js';

const needPassword = reply(Code.NeedPassword, 'Please specify the password.');
const loggedIn = reply(Code.LoggedIn, 'Login successful.');
const alreadyLoggedIn = reply(Code.LoggedIn, 'Already logged in.');
const loginIncorrect = reply(Code.NotLoggedIn, 'Login incorrect.');
const homeUnavailable = reply(Code.NotLoggedIn, 'Login failed: home directory unavailable.');
const closing = (text: string): Reply => closingReply(Code.ServiceNotAvailable, text);

/** The answer to each verdict but 'ok'; a `wrong` password (checked, and a failure) is answered after --login-fail-delay. */
const answers: Readonly<Record<Exclude<LoginVerdict, 'ok'>, { reply: Reply; wrong: boolean }>> = {
  incorrect: { reply: loginIncorrect, wrong: true },
  connectionCap: { reply: closing('Login incorrect; too many failed logins, closing control connection.'), wrong: true },
  addressCap: { reply: closing('Login incorrect; too many failed logins from your address, closing control connection.'), wrong: true },
  addressBlocked: { reply: closing('Too many failed logins from your address; try again later. Closing control connection.'), wrong: false },
  busy: { reply: closing('Too many logins waiting for a password check; try again later. Closing control connection.'), wrong: false },
  stopped: { reply: closing('Service not available, closing control connection.'), wrong: false },
};
const goodbye = closingReply(Code.ClosingControl, 'Goodbye.');

/** RFC 959 4.1.1: USER starts a new login, even in the middle of a session. */
export function user(ctx: CommandContext, arg: string): Reply {
  ctx.session.user = arg;
  ctx.session.loggedIn = false;
  return needPassword;
}

/** An anonymous login answers at once; a password check waits for a password thread. */
export function pass(ctx: CommandContext, arg: string): Reply | Promise<Reply> {
  const s = ctx.session;
  if (s.loggedIn) return alreadyLoggedIn;
  const account = ctx.accounts.get(s.user ?? '');
  if (account === undefined && !ctx.config.noAnonymous) return login(ctx, '/', ctx.config.writable);
  return checkPassword(ctx, account, arg);
}

/**
 * 221, then the engine flushes the reply and closes the connection. QUIT is
 * not marked duringTransfer: sent during a transfer, it waits for the
 * transfer's final reply, as RFC 959 4.1.1 says ("the connection will remain
 * open for result response and the server will then close it").
 */
export function quit(): Reply {
  return goodbye;
}

async function checkPassword(ctx: CommandContext, account: Account | undefined, password: string): Promise<Reply> {
  // An unknown name costs the same hash work as a known one: timing tells nothing.
  const verdict = await ctx.logins.check(ctx.session, password, account?.hash, () => !ctx.isClosed);
  if (verdict === 'ok' && account !== undefined) return login(ctx, account.home, account.writable);
  const answer = answers[verdict === 'ok' ? 'incorrect' : verdict];
  if (answer.wrong) {
    ctx.session.user = null;
    await sleep(ctx.config.loginFailDelay);
  }
  return answer.reply;
}

/**
 * The session moves into its home first (the engine opens it beneath the
 * root): from then on the kernel confines every path of the session there.
 * Synchronous when it is there already (every anonymous login).
 */
function login(ctx: CommandContext, home: string, writable: boolean): Reply | Promise<Reply> {
  if (home === ctx.session.home) return start(ctx, home, writable);
  return ctx.files.enterHome(home).then(
    () => start(ctx, home, writable),
    (e: unknown) => {
      const message = `session ${ctx.session.sid}: cannot enter home ${home}: ${e instanceof Error ? e.message : String(e)}`;
      // A session gone meanwhile is no fault of its home (nor of the server).
      if (e instanceof SessionGone) ctx.log.debug(message);
      else ctx.log.error(message);
      ctx.session.user = null;
      return homeUnavailable;
    },
  );
}

function start(ctx: CommandContext, home: string, writable: boolean): Reply {
  const s = ctx.session;
  s.loggedIn = true;
  s.home = home;
  s.writable = writable;
  s.cwd = '/';
  ctx.report('login');
  return loggedIn;
}
