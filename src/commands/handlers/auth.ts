// USER, PASS, QUIT. A name of the accounts file (--users) logs in with its
// password, into its home, read-only or writable as its line says. Any other
// name logs in anonymously (any password, the whole root, writable with
// --writable) unless --no-anonymous. A failed login is answered after
// --login-fail-delay, with the same 530 whether the name exists or not.
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Account } from '../../auth/accounts.js';
import { makeHash, type PasswordHash, verifyPassword } from '../../auth/password.js';
import { Code, type Reply, reply } from '../../protocol/replies.js';
import type { CommandContext } from '../types.js';

const needPassword = reply(Code.NeedPassword, 'Please specify the password.');
const loggedIn = reply(Code.LoggedIn, 'Login successful.');
const alreadyLoggedIn = reply(Code.LoggedIn, 'Already logged in.');
const loginIncorrect = reply(Code.NotLoggedIn, 'Login incorrect.');
const homeUnavailable = reply(Code.NotLoggedIn, 'Login failed: home directory unavailable.');
const tooManyFailures: Reply = {
  code: Code.ServiceNotAvailable,
  text: 'Login incorrect; too many failed logins, closing control connection.',
  close: true,
};
const goodbye: Reply = { code: Code.ClosingControl, text: 'Goodbye.', close: true };

/** RFC 959 4.1.1: USER starts a new login, even in the middle of a session. */
export function user(ctx: CommandContext, arg: string): Reply {
  ctx.session.user = arg;
  ctx.session.loggedIn = false;
  return needPassword;
}

/** An anonymous login answers at once; a password check runs on the thread pool. */
export function pass(ctx: CommandContext, arg: string): Reply | Promise<Reply> {
  const s = ctx.session;
  if (s.loggedIn) return alreadyLoggedIn;
  const account = ctx.accounts.get(s.user ?? '');
  if (account === undefined && !ctx.config.noAnonymous) return login(ctx, '/', ctx.config.writable);
  return checkPassword(ctx, account, arg);
}

/** 221, then the engine flushes the reply and closes the connection (and any transfer). */
export function quit(): Reply {
  return goodbye;
}

async function checkPassword(ctx: CommandContext, account: Account | undefined, password: string): Promise<Reply> {
  // An unknown name costs the same hash work as a known one: timing tells nothing.
  const ok = await verifyPassword(password, account?.hash ?? (await decoy()));
  if (account !== undefined && ok) return login(ctx, account.home, account.writable);
  return failed(ctx);
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
      ctx.log.error(`session ${ctx.session.sid}: cannot enter home ${home}: ${e instanceof Error ? e.message : String(e)}`);
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
  return loggedIn;
}

/** 530 after the delay; the failure that reaches --max-login-failures gets 421 and the connection closes. */
async function failed(ctx: CommandContext): Promise<Reply> {
  const s = ctx.session;
  s.loginFailures += 1;
  s.user = null;
  await sleep(ctx.config.loginFailDelay);
  const max = ctx.config.maxLoginFailures;
  return max > 0 && s.loginFailures >= max ? tooManyFailures : loginIncorrect;
}

let decoyHash: Promise<PasswordHash> | undefined;

function decoy(): Promise<PasswordHash> {
  decoyHash ??= makeHash(randomBytes(16).toString('hex'));
  return decoyHash;
}
