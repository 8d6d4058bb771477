// THE command table (pyftpdlib's proto_cmds): per verb, whether login is
// needed, the argument rule, the state it needs, whether it may run during a
// transfer or keeps a pending RNFR, its FEAT line, its help, and its handler. The dispatcher applies
// these generically; special cases live in the rows' validators and predicates.
import { Code, type Reply, reply } from '../protocol/replies.js';
import type { Session } from '../session/session.js';
import { mlstFeature } from '../vfs/facts.js';
import { pass, quit, user } from './handlers/auth.js';
import { epsv, epsvArg, eprt, pasv, port } from './handlers/data.js';
import { allo, dele, mkd, needsRenameFrom, rmd, rnfr, rnto } from './handlers/files.js';
import { feat, help, mdtm, mode, noop, opts, size, stat, stru, syst, type } from './handlers/info.js';
import { list, mlsd, mlst, nlst } from './handlers/listing.js';
import { cdup, cwd, pwd } from './handlers/nav.js';
import { auth, ccc, dataTls, loginTls, needsTls, pbsz, pbszArg, prot, tlsFeature } from './handlers/tls.js';
import { abor, rest, restArg, retr } from './handlers/transfer.js';
import { appe, stor, stou } from './handlers/upload.js';
import type { CommandSpec } from './types.js';

const loginWithUser = reply(Code.BadSequence, 'Login with USER first.');
const useDataCommandFirst = reply(Code.CantOpenData, 'Use PORT or PASV first.');
const refusedAfterEpsvAll = reply(Code.BadSequence, 'Only EPSV is allowed after EPSV ALL.');

/** PASS comes after USER (RFC 959 4.1.1), and after AUTH TLS under --tls-required. */
export function needsUser(s: Session): Reply | undefined {
  return loginTls(s) ?? (s.user === null ? loginWithUser : undefined);
}

/** Data commands need a PASV/EPSV/PORT/EPRT before them, and PROT P under --tls-required. */
export function needsDataSetup(s: Session): Reply | undefined {
  return s.data.kind === 'none' ? useDataCommandFirst : dataTls(s);
}

/** RFC 2428 4: after EPSV ALL, the other data setup commands are refused. */
export function notAfterEpsvAll(s: Session): Reply | undefined {
  return s.epsvAll ? refusedAfterEpsvAll : undefined;
}

export const commands = {
  USER: { auth: false, arg: 'required', state: loginTls, help: 'USER <SP> name (start a login; any name is accepted)', handler: user },
  PASS: { auth: false, arg: 'optional', state: needsUser, help: 'PASS [<SP> password] (finish a login)', handler: pass },
  QUIT: { auth: false, arg: 'none', help: 'QUIT (close the connection, after a running transfer)', handler: quit },
  SYST: { auth: false, arg: 'none', help: 'SYST (system type)', handler: syst },
  FEAT: { auth: false, arg: 'none', help: 'FEAT (list the extensions)', handler: feat },
  OPTS: { auth: false, arg: 'required', feat: 'UTF8', help: 'OPTS <SP> UTF8 ON | MLST facts (options)', handler: opts },
  HELP: { auth: false, arg: 'optional', help: 'HELP [<SP> command] (this help)', handler: help },
  NOOP: { auth: false, arg: 'none', duringTransfer: true, help: 'NOOP (do nothing)', handler: noop },
  TYPE: { auth: true, arg: 'required', help: 'TYPE <SP> A | I (transfer type)', handler: type },
  MODE: { auth: true, arg: 'required', help: 'MODE <SP> S (transfer mode)', handler: mode },
  STRU: { auth: true, arg: 'required', help: 'STRU <SP> F (file structure)', handler: stru },
  PWD: { auth: true, arg: 'none', help: 'PWD (print the current directory)', handler: pwd },
  XPWD: { auth: true, arg: 'none', help: 'XPWD (same as PWD)', handler: pwd },
  CWD: { auth: true, arg: 'required', help: 'CWD <SP> path (change directory)', handler: cwd },
  XCWD: { auth: true, arg: 'required', help: 'XCWD <SP> path (same as CWD)', handler: cwd },
  CDUP: { auth: true, arg: 'none', help: 'CDUP (go to the parent directory)', handler: cdup },
  XCUP: { auth: true, arg: 'none', help: 'XCUP (same as CDUP)', handler: cdup },
  PASV: { auth: true, data: true, arg: 'none', state: notAfterEpsvAll, help: 'PASV (passive mode, IPv4)', handler: pasv },
  EPSV: { auth: true, data: true, arg: epsvArg, feat: 'EPSV', help: 'EPSV [<SP> 1 | 2 | ALL] (extended passive mode)', handler: epsv },
  PORT: { auth: true, data: true, arg: 'required', state: notAfterEpsvAll, help: 'PORT <SP> h1,h2,h3,h4,p1,p2 (active mode)', handler: port },
  EPRT: { auth: true, data: true, arg: 'required', state: notAfterEpsvAll, feat: 'EPRT', help: 'EPRT <SP> |proto|address|port| (extended active mode)', handler: eprt },
  RETR: { auth: true, data: true, arg: 'required', state: needsDataSetup, help: 'RETR <SP> path (download a file)', handler: retr },
  REST: { auth: true, arg: restArg, feat: 'REST STREAM', help: 'REST <SP> offset (restart the next RETR or STOR at a byte offset)', handler: rest },
  ABOR: { auth: true, arg: 'none', duringTransfer: true, help: 'ABOR (abort the transfer)', handler: abor },
  LIST: { auth: true, data: true, arg: 'optional', state: needsDataSetup, help: 'LIST [<SP> path] (long directory listing)', handler: list },
  NLST: { auth: true, data: true, arg: 'optional', state: needsDataSetup, help: 'NLST [<SP> path] (names in a directory)', handler: nlst },
  STAT: { auth: true, arg: 'optional', duringTransfer: true, help: 'STAT [<SP> path] (status, or a listing on the control connection)', handler: stat },
  SIZE: { auth: true, arg: 'required', feat: 'SIZE', help: 'SIZE <SP> path (file size in bytes)', handler: size },
  MDTM: { auth: true, arg: 'required', feat: 'MDTM', help: 'MDTM <SP> path (modification time, UTC)', handler: mdtm },
  MLSD: { auth: true, data: true, arg: 'optional', state: needsDataSetup, help: 'MLSD [<SP> dir] (machine listing of a directory)', handler: mlsd },
  MLST: { auth: true, arg: 'optional', feat: (s) => mlstFeature(s.facts), help: 'MLST [<SP> path] (machine listing of one entry)', handler: mlst },
  STOR: { auth: true, data: true, arg: 'required', state: needsDataSetup, perm: 'write', help: 'STOR <SP> path (upload a file)', handler: stor },
  APPE: { auth: true, data: true, arg: 'required', state: needsDataSetup, perm: 'write', help: 'APPE <SP> path (append to a file)', handler: appe },
  STOU: { auth: true, data: true, arg: 'optional', state: needsDataSetup, perm: 'write', help: 'STOU [<SP> name] (upload under a unique name)', handler: stou },
  ALLO: { auth: true, arg: 'required', help: 'ALLO <SP> size (accepted; nothing to reserve)', handler: allo },
  DELE: { auth: true, arg: 'required', perm: 'write', help: 'DELE <SP> path (delete a file)', handler: dele },
  MKD: { auth: true, arg: 'required', perm: 'write', help: 'MKD <SP> path (make a directory)', handler: mkd },
  XMKD: { auth: true, arg: 'required', perm: 'write', help: 'XMKD <SP> path (same as MKD)', handler: mkd },
  RMD: { auth: true, arg: 'required', perm: 'write', help: 'RMD <SP> path (remove an empty directory)', handler: rmd },
  XRMD: { auth: true, arg: 'required', perm: 'write', help: 'XRMD <SP> path (same as RMD)', handler: rmd },
  RNFR: { auth: true, arg: 'required', perm: 'write', help: 'RNFR <SP> path (rename from)', handler: rnfr },
  RNTO: { auth: true, arg: 'required', state: needsRenameFrom, perm: 'write', keepsRenameFrom: true, help: 'RNTO <SP> path (rename to)', handler: rnto },
  AUTH: { auth: false, arg: 'required', feat: tlsFeature('AUTH TLS'), help: 'AUTH <SP> TLS (start TLS on the control connection; SSL is the same)', handler: auth },
  PBSZ: { auth: false, arg: pbszArg, state: needsTls, feat: tlsFeature('PBSZ'), help: 'PBSZ <SP> 0 (protection buffer size, always 0 with TLS)', handler: pbsz },
  PROT: { auth: false, arg: 'required', state: needsTls, feat: tlsFeature('PROT'), help: 'PROT <SP> C | P (data connections clear or TLS)', handler: prot },
  CCC: { auth: true, arg: 'none', feat: tlsFeature('CCC'), help: 'CCC (clear the control connection after login; data keeps its PROT)', handler: ccc },
} satisfies Record<string, CommandSpec>;

export type Verb = keyof typeof commands;
