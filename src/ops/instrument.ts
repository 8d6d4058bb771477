// Wraps the rows of a command registry: every command run is counted by
// verb, and PASS's answer is reported (login log lines, failed-login cap
// hits) whatever its handler does. The table and the dispatcher stay unchanged.
import { FtpError } from '../errors.js';
import type { Reply } from '../protocol/replies.js';
import type { CommandContext, CommandRegistry, CommandSpec, Handler } from '../commands/types.js';

export interface CommandHooks {
  command(verb: string): void;
  /** PASS was answered (230, 530, or 421 at the failed-login cap). */
  passAnswered(ctx: CommandContext, answer: Reply, wasLoggedIn: boolean): void;
}

export function instrument(registry: CommandRegistry, hooks: CommandHooks): CommandRegistry {
  const rows = new Map<string, CommandSpec>();
  for (const verb of registry.verbs) {
    const spec = registry.get(verb);
    if (spec !== undefined) rows.set(verb, { ...spec, handler: wrap(verb, spec.handler, hooks) });
  }
  return { get: (verb) => rows.get(verb), verbs: registry.verbs, features: registry.features };
}

function wrap(verb: string, handler: Handler, hooks: CommandHooks): Handler {
  if (verb !== 'PASS') {
    return (ctx, arg) => {
      hooks.command(verb);
      return handler(ctx, arg);
    };
  }
  return (ctx, arg) => {
    hooks.command(verb);
    const was = ctx.session.loggedIn;
    const answered = (r: Reply): Reply => {
      hooks.passAnswered(ctx, r, was);
      return r;
    };
    let result: Reply | Promise<Reply>;
    try {
      result = handler(ctx, arg);
    } catch (e) {
      if (e instanceof FtpError) return answered(e.reply);
      throw e;
    }
    if (!(result instanceof Promise)) return answered(result);
    return result.then(answered, (e: unknown) => {
      if (e instanceof FtpError) return answered(e.reply);
      throw e;
    });
  };
}
