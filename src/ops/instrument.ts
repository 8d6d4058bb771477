// Wraps the rows of a command registry so that every command run is counted
// by verb, whatever the handlers do. The table and the dispatcher stay
// unchanged; what a handler did beyond its reply (a login, a refused bounce)
// it reports itself, through ctx.report.
import type { CommandRegistry, CommandSpec, Handler } from '../commands/types.js';

/** `counter(verb)` gives the function that counts one run of `verb` (made once per verb, here). */
export function instrument(registry: CommandRegistry, counter: (verb: string) => () => void): CommandRegistry {
  const rows = new Map<string, CommandSpec>();
  for (const verb of registry.verbs) {
    const spec = registry.get(verb);
    if (spec !== undefined) rows.set(verb, row(spec, counted(spec.handler, counter(verb))));
  }
  return { get: (verb) => rows.get(verb), verbs: registry.verbs, features: registry.features };
}

/**
 * Every row with every field, in one order: dispatch reads the rows of all
 * the verbs at the same few places, which then see one hidden class, where
 * rows written with only the fields they set were a different one each.
 */
function row(spec: CommandSpec, handler: Handler): CommandSpec {
  // `satisfies`: a field added to CommandSpec and not copied here fails to compile.
  return {
    auth: spec.auth,
    arg: spec.arg,
    state: spec.state,
    perm: spec.perm,
    duringTransfer: spec.duringTransfer,
    data: spec.data,
    keepsRenameFrom: spec.keepsRenameFrom,
    feat: spec.feat,
    help: spec.help,
    handler,
  } satisfies Record<keyof CommandSpec, unknown>;
}

function counted(handler: Handler, count: () => void): Handler {
  return (ctx, arg) => {
    count();
    return handler(ctx, arg);
  };
}
