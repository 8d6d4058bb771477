// Wraps the rows of a command registry: every command run is counted by
// verb, PASS's answer is reported (login log lines)
// and so is a PORT/EPRT refused as an FTP bounce, whatever the handlers do.
// The table and the dispatcher stay unchanged.
import { FtpError } from '../errors.js';
import { Code, type Reply } from '../protocol/replies.js';
import type { CommandContext, CommandRegistry, CommandSpec, Handler } from '../commands/types.js';

export interface CommandHooks {
  command(verb: string): void;
  /** PASS was answered (230, 530, or 421 at a failed-login cap or a full queue of password checks). */
  passAnswered(ctx: CommandContext, answer: Reply, wasLoggedIn: boolean): void;
  /** PORT or EPRT was refused as an FTP bounce: 504, another host or a privileged port (handlers/data.ts). */
  bounceRefused(ctx: CommandContext): void;
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
  if (verb === 'PASS') {
    return (ctx, arg) => {
      hooks.command(verb);
      const was = ctx.session.loggedIn;
      return answered(ctx, arg, handler, (r) => hooks.passAnswered(ctx, r, was));
    };
  }
  if (verb === 'PORT' || verb === 'EPRT') {
    return (ctx, arg) => {
      hooks.command(verb);
      return answered(ctx, arg, handler, (r) => {
        if (r.code === Code.NotImplementedForParam) hooks.bounceRefused(ctx);
      });
    };
  }
  return (ctx, arg) => {
    hooks.command(verb);
    return handler(ctx, arg);
  };
}

/** Runs `handler` and shows `seen` its answer: its reply, or the reply of the FtpError it throws. */
function answered(ctx: CommandContext, arg: string, handler: Handler, seen: (r: Reply) => void): Reply | Promise<Reply> {
  const answer = (r: Reply): Reply => {
    seen(r);
    return r;
  };
  let result: Reply | Promise<Reply>;
  try {
    result = handler(ctx, arg);
  } catch (e) {
    if (e instanceof FtpError) return answer(e.reply);
    throw e;
  }
  if (!(result instanceof Promise)) return answer(result);
  return result.then(answer, (e: unknown) => {
    if (e instanceof FtpError) return answer(e.reply);
    throw e;
  });
}
