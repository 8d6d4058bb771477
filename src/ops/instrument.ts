// Wraps the rows of a command registry so that every command run is counted
// by verb, whatever the handlers do. The table and the dispatcher stay
// unchanged; what a handler did beyond its reply (a login, a refused bounce)
// it reports itself, through ctx.report.
import type { CommandRegistry, CommandSpec, Handler } from '../commands/types.js';

export function instrument(registry: CommandRegistry, count: (verb: string) => void): CommandRegistry {
  const rows = new Map<string, CommandSpec>();
  for (const verb of registry.verbs) {
    const spec = registry.get(verb);
    if (spec !== undefined) rows.set(verb, { ...spec, handler: counted(verb, spec.handler, count) });
  }
  return { get: (verb) => rows.get(verb), verbs: registry.verbs, features: registry.features };
}

function counted(verb: string, handler: Handler, count: (verb: string) => void): Handler {
  return (ctx, arg) => {
    count(verb);
    return handler(ctx, arg);
  };
}
