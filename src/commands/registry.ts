// Merges the built-in table with a startServer({ commands }) table (override,
// extend, or null to remove) and checks the result once, at start.
import { ConfigError } from '../errors.js';
import { commands } from './table.js';
import type { Session } from '../session/session.js';
import type { CommandOverrides, CommandRegistry, CommandSpec, Feature } from './types.js';

const argRules = new Set(['none', 'required', 'optional']);

export function buildRegistry(overrides: CommandOverrides = {}): CommandRegistry {
  const table = new Map<string, CommandSpec>(Object.entries(commands));
  for (const [key, spec] of Object.entries(overrides)) {
    const verb = key.toUpperCase();
    if (!/^[A-Z][A-Z0-9]{0,15}$/.test(verb)) throw badCommand(key, 'is not a verb (letters, then letters or digits)');
    if (spec === null) table.delete(verb);
    else table.set(verb, checked(verb, spec));
  }
  const verbs = [...table.keys()].sort();
  const feats = [...new Set(verbs.flatMap((v) => table.get(v)?.feat ?? []))];
  const features = (session: Session) => [...new Set(feats.flatMap((f) => featureLine(f, session) ?? []))].sort();
  return { get: (verb) => table.get(verb), verbs, features };
}

/** A row's FEAT line for `session`, if any; a made one is checked here, as a fixed one was at start (a throw is FEAT's 451). */
function featureLine(feat: Feature, session: Session): string | undefined {
  if (typeof feat === 'string') return feat;
  const line = feat(session);
  if (line === undefined) return undefined;
  if (typeof line !== 'string' || /[\r\n]/.test(line)) throw new Error(`a feat function made ${JSON.stringify(line)}, not one line`);
  return line;
}

/** Custom rows come from plain JavaScript too: their shape is checked here rather than on first use. */
function checked(verb: string, spec: CommandSpec): CommandSpec {
  if (typeof spec !== 'object' || spec === null) throw badCommand(verb, 'must be a command row');
  if (typeof spec.auth !== 'boolean') throw badCommand(verb, 'needs auth: boolean');
  if (typeof spec.arg !== 'function' && !argRules.has(spec.arg)) {
    throw badCommand(verb, "needs arg: 'none' | 'required' | 'optional' | validator");
  }
  if (typeof spec.help !== 'string' || spec.help === '') throw badCommand(verb, 'needs a help line');
  if (typeof spec.handler !== 'function') throw badCommand(verb, 'needs a handler');
  if (spec.state !== undefined && typeof spec.state !== 'function') throw badCommand(verb, 'state must be a function');
  if (spec.perm !== undefined && spec.perm !== 'write') throw badCommand(verb, "perm must be 'write'");
  for (const flag of ['duringTransfer', 'data', 'keepsRenameFrom'] as const) {
    if (spec[flag] !== undefined && typeof spec[flag] !== 'boolean') throw badCommand(verb, `${flag} must be a boolean`);
  }
  if (spec.feat !== undefined && typeof spec.feat !== 'function' && (typeof spec.feat !== 'string' || /[\r\n]/.test(spec.feat))) {
    throw badCommand(verb, 'feat must be one line, or a function of the session');
  }
  return spec;
}

function badCommand(verb: string, reason: string): ConfigError {
  return new ConfigError('MUXFTPD_ERR_BAD_COMMAND', `command ${JSON.stringify(verb)} ${reason}`);
}
