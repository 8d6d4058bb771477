// Session settings and information: SYST, FEAT, OPTS, TYPE, MODE, STRU, NOOP,
// HELP, STAT, SIZE, MDTM.
import { FtpError } from '../../errors.js';
import { Code, multiline, type Reply, reply } from '../../protocol/replies.js';
import { selectFacts, timeVal } from '../../vfs/facts.js';
import type { CommandContext } from '../types.js';
import { listed, listLines } from './listing.js';
import { virtualOf } from './session-paths.js';

const system = reply(Code.SystemType, 'UNIX Type: L8');
const noopOk = reply(Code.CommandOk, 'NOOP ok.');
const utf8On = reply(Code.CommandOk, 'Always in UTF8 mode.');
const ascii = reply(Code.CommandOk, 'Switching to ASCII mode.');
const binary = reply(Code.CommandOk, 'Switching to Binary mode.');
const notImplementedParam = (what: string) => new FtpError(Code.NotImplementedForParam, `${what} not implemented.`);
const badParam = (what: string) => new FtpError(Code.SyntaxErrorArgs, `Unrecognized ${what}.`);

export function syst(): Reply {
  return system;
}

export function noop(): Reply {
  return noopOk;
}

/**
 * RFC 2389 3.2: one feature per line, each indented by one space: each row's
 * line, made for this session (MLST's marks the facts it selected, RFC 3659 7.8).
 */
export function feat(ctx: CommandContext): Reply {
  return multiline(Code.SystemStatus, 'Features:', ctx.commands.features(ctx.session), 'End');
}

/** RFC 2389 4: OPTS UTF8 (RFC 2640 3.1: names are always UTF-8 here) and OPTS MLST (RFC 3659 7.9). */
export function opts(ctx: CommandContext, arg: string): Reply {
  const [name = '', facts = ''] = arg.trim().split(/\s+/);
  if (name.toUpperCase() === 'MLST') {
    ctx.session.facts = selectFacts(facts);
    return reply(Code.CommandOk, `MLST OPTS ${ctx.session.facts.map((f) => `${f};`).join('')}`);
  }
  const option = arg.trim().toUpperCase().split(/\s+/);
  if (option[0] !== 'UTF8') throw new FtpError(Code.SyntaxErrorArgs, 'Option not understood.');
  if (option.length === 1 || (option.length === 2 && option[1] === 'ON')) return utf8On;
  throw new FtpError(Code.NotImplementedForParam, 'UTF8 cannot be turned off.');
}

/** RFC 959 4.1.2: A [N] and I / L 8 are served (bytes go unconverted); other types are refused. */
export function type(ctx: CommandContext, arg: string): Reply {
  const t = arg.trim().toUpperCase().split(/\s+/).join(' ');
  if (t === 'A' || t === 'A N') {
    ctx.session.type = 'A';
    return ascii;
  }
  if (t === 'I' || t === 'L 8') {
    ctx.session.type = 'I';
    return binary;
  }
  if (/^(A [TC]|E( [NTC])?|L \d+)$/.test(t)) throw notImplementedParam(`TYPE ${t}`);
  throw badParam('TYPE');
}

export function mode(_ctx: CommandContext, arg: string): Reply {
  const m = arg.trim().toUpperCase();
  if (m === 'S') return reply(Code.CommandOk, 'Mode set to S.');
  if (m === 'B' || m === 'C') throw notImplementedParam(`MODE ${m}`);
  throw badParam('MODE');
}

export function stru(_ctx: CommandContext, arg: string): Reply {
  const s = arg.trim().toUpperCase();
  if (s === 'F') return reply(Code.CommandOk, 'Structure set to F.');
  if (s === 'R' || s === 'P') throw notImplementedParam(`STRU ${s}`);
  throw badParam('STRU');
}

/** HELP lists every verb of the table; HELP <verb> gives its row's help line. */
export function help(ctx: CommandContext, arg: string): Reply {
  if (arg !== '') {
    const verb = arg.trim().toUpperCase();
    const spec = ctx.commands.get(verb);
    if (spec === undefined) throw new FtpError(Code.SyntaxErrorArgs, `Unknown command ${verb}.`);
    return reply(Code.HelpMessage, spec.help);
  }
  const rows: string[] = [];
  const verbs = ctx.commands.verbs;
  for (let i = 0; i < verbs.length; i += 8) rows.push(verbs.slice(i, i + 8).map((v) => v.padEnd(5)).join(' ').trimEnd());
  return multiline(Code.HelpMessage, 'The following commands are recognized:', rows, 'Help OK.');
}

/** STAT: the session's status (211), or with a path its listing over the control connection (213). */
export function stat(ctx: CommandContext, arg: string): Reply | Promise<Reply> {
  return arg === '' ? status(ctx) : statPath(ctx, arg);
}

function status(ctx: CommandContext): Reply {
  const s = ctx.session;
  const data =
    s.data.kind === 'passive'
      ? s.data.port === 0
        ? 'Passive mode, listener opening'
        : `Passive mode, port ${s.data.port}`
      : s.data.kind === 'active'
        ? `Active mode, to ${s.data.host} port ${s.data.port}`
        : 'No data connection set up';
  return multiline(
    Code.SystemStatus,
    'muxftpd status:',
    [
      `Connected to ${s.peer.address} port ${s.peer.port}`,
      s.loggedIn ? `Logged in as ${s.user ?? ''}` : 'Not logged in',
      `TYPE: ${s.type === 'I' ? 'BINARY' : 'ASCII'}, MODE: Stream, STRU: File`,
      data,
      s.transferring ? 'Transfer in progress' : 'No transfer in progress',
    ],
    'End of status',
  );
}

async function statPath(ctx: CommandContext, arg: string): Promise<Reply> {
  const lines = listLines(await listed(ctx, arg), true);
  return multiline(Code.FileStatus, `Status of ${arg}:`, lines, 'End of status');
}

/** RFC 3659 4: the size in bytes. TYPE A transfers are not converted, so it is exact in both types. */
export async function size(ctx: CommandContext, arg: string): Promise<Reply> {
  const file = await ctx.files.file(virtualOf(ctx, arg));
  return reply(Code.FileStatus, String(file.size));
}

/** RFC 3659 3: modification time, YYYYMMDDHHMMSS in UTC. */
export async function mdtm(ctx: CommandContext, arg: string): Promise<Reply> {
  const file = await ctx.files.file(virtualOf(ctx, arg));
  return reply(Code.FileStatus, timeVal(file.mtime));
}
