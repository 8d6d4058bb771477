// FTP reply codes and reply formatting (RFC 959 4.2).

export const Code = {
  DataAlreadyOpen: 125, // RFC 959 4.2.1: data connection already open; transfer starting
  FileStatusOk: 150, // RFC 959 4.2.1: about to open data connection
  CommandOk: 200, // RFC 959 4.2.1
  Superfluous: 202, // RFC 959 4.2.1: command not implemented, superfluous at this site
  SystemStatus: 211, // RFC 959 4.2.1; RFC 2389 3.2 (FEAT)
  DirectoryStatus: 212, // RFC 959 4.2.1
  FileStatus: 213, // RFC 959 4.2.1; RFC 3659 3, 4 (MDTM, SIZE)
  HelpMessage: 214, // RFC 959 4.2.1
  SystemType: 215, // RFC 959 4.2.1
  ServiceReady: 220, // RFC 959 4.2.1; RFC 7151 3.2 (HOST accepted)
  ClosingControl: 221, // RFC 959 4.2.1
  DataOpenNoTransfer: 225, // RFC 959 4.2.1
  ClosingData: 226, // RFC 959 4.2.1: requested file action successful
  EnteringPassive: 227, // RFC 959 4.2.1
  EnteringExtendedPassive: 229, // RFC 2428 3
  LoggedIn: 230, // RFC 959 4.2.1
  SecurityExchangeDone: 234, // RFC 2228 AUTH; RFC 4217 4 (AUTH TLS accepted, TLS negotiation follows)
  FileActionOk: 250, // RFC 959 4.2.1
  PathCreated: 257, // RFC 959 4.2.1, appendix II (PWD)
  NeedPassword: 331, // RFC 959 4.2.1
  PendingFurtherInfo: 350, // RFC 959 4.2.1; RFC 3659 5 (REST)
  ServiceNotAvailable: 421, // RFC 959 4.2.1: closing control connection
  CantOpenData: 425, // RFC 959 4.2.1
  TransferAborted: 426, // RFC 959 4.2.1
  FileBusy: 450, // RFC 959 4.2.1
  LocalError: 451, // RFC 959 4.2.1
  InsufficientStorage: 452, // RFC 959 4.2.1
  SyntaxError: 500, // RFC 959 4.2.1: command unrecognized (or line too long)
  SyntaxErrorArgs: 501, // RFC 959 4.2.1: syntax error in parameters
  NotImplemented: 502, // RFC 959 4.2.1
  BadSequence: 503, // RFC 959 4.2.1
  NotImplementedForParam: 504, // RFC 959 4.2.1
  NotInThisMode: 520, // pure-ftpd's ESTA/ESTP: not in that data mode (no RFC defines it)
  DataProtectionRefused: 521, // RFC 4217 9: data connection cannot be opened with this PROT setting
  /**
   * RFC 2428 2: network protocol not supported. Also vsftpd's FTP_DATATLSBAD:
   * a PROT P data connection that did not resume the control connection's TLS session.
   */
  ProtocolNotSupported: 522,
  NotLoggedIn: 530, // RFC 959 4.2.1
  ProtectionLevelDenied: 533, // RFC 2228: command protection level denied for policy reasons
  PolicyDenied: 534, // RFC 2228: request denied for policy reasons
  ProtLevelNotSupported: 536, // RFC 2228 PROT; RFC 4217 9: S and E are not supported with TLS
  FileUnavailable: 550, // RFC 959 4.2.1: not found, no access
  PageTypeUnknown: 551, // RFC 959 4.2.1
  ExceededStorage: 552, // RFC 959 4.2.1
  FileNameNotAllowed: 553, // RFC 959 4.2.1
  InvalidRestParameter: 554, // RFC 1123 4.1.3.4: the file cannot be repositioned as REST said
} as const;

export type ReplyCode = (typeof Code)[keyof typeof Code];

export interface Reply {
  readonly code: ReplyCode;
  /** The whole text of a single-line reply; the first line's text of a multi-line one. */
  readonly text: string;
  /** Present for a multi-line reply: the lines between the first and the last. */
  readonly body?: readonly string[];
  /** Multi-line only: the last line's text. */
  readonly end?: string;
  /** Close the control connection once this reply is sent (QUIT, 421). */
  readonly close?: boolean;
  /** The engine has queued it already (a passive reply template it filled in, a transfer's 226 epilogue): nothing to send. */
  readonly sent?: boolean;
}

/**
 * Every reply the server makes has one shape (all fields, in this order), so
 * the hot paths that read them (Connection.send, formatReply) see one hidden
 * class where a literal per kind of reply made them look each field up.
 */
function make(code: ReplyCode, text: string, body?: readonly string[], end?: string, close?: boolean, sent?: boolean): Reply {
  return { code, text, body, end, close, sent };
}

export function reply(code: ReplyCode, text: string): Reply {
  return make(code, text);
}

/** A reply after which the control connection is closed (QUIT's 221, a 421). */
export function closingReply(code: ReplyCode, text: string): Reply {
  return make(code, text, undefined, undefined, true);
}

/** `r` as a handler's final reply when the reply is already on its way (queued by the worker, or sent ahead of an engine action). */
export function alreadySent(r: Reply): Reply {
  return make(r.code, r.text, r.body, r.end, r.close, true);
}

export function multiline(code: ReplyCode, first: string, body: readonly string[], end: string): Reply {
  return make(code, first, body, end);
}

/**
 * The bytes of a reply. Multi-line replies use the RFC 959 4.2 form "ccc-first",
 * body lines each indented by one space (so none can look like the last line;
 * RFC 2389 requires the space for FEAT), then "ccc end".
 */
export function formatReply(r: Reply): string {
  if (r.body === undefined) return `${r.code} ${oneLine(r.text)}\r\n`;
  let out = `${r.code}-${oneLine(r.text)}\r\n`;
  for (const line of r.body) out += ` ${oneLine(line)}\r\n`;
  return out + `${r.code} ${oneLine(r.end ?? 'End')}\r\n`;
}


/**
 * Text that echoes client input or file names must not break a reply or a
 * listing apart: a CR goes out as CR NUL (RFC 2640 3.1), a LF as NUL (as
 * vsftpd does in replies). Listings on the data connection use it too, so a
 * name reads the same in STAT and in LIST/NLST/MLSD.
 */
export function oneLine(text: string): string {
  return hasLineBreak(text) ? text.replace(/\r/g, '\r\0').replace(/\n/g, '\0') : text;
}

/** A loop the JIT inlines: a regular expression test costs a call per reply. */
function hasLineBreak(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 13 || c === 10) return true;
  }
  return false;
}
