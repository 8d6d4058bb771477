// The accounts file (--users): one account a line,
//   name:scrypt-hash:home:ro|rw
// home is a directory inside the served root ('/' or '/alice'), which the
// account then sees as its own '/'. Empty lines and lines starting with '#'
// are skipped. The whole file is checked at start: one bad line stops it.
import { readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { errorCode } from '../config/load.js';
import { settings } from '../config/settings.js';
import { ConfigError } from '../errors.js';
import { joinVirtual, relativeOf } from '../vfs/paths.js';
import { type PasswordHash, parseHash } from './password.js';

export interface Account {
  name: string;
  hash: PasswordHash;
  /** Virtual path of the account's home in the served root; the account's '/'. */
  home: string;
  writable: boolean;
}

export type Accounts = ReadonlyMap<string, Account>;

/** Reads and checks the accounts file; no file configured gives no accounts. */
export async function loadAccounts(file: string | null, root: string): Promise<Accounts> {
  const accounts = new Map<string, Account>();
  if (file === null) return accounts;
  let content: string;
  try {
    content = await readFile(file, 'utf8');
  } catch (e) {
    throw badFile(file, e instanceof Error ? e.message : String(e));
  }
  const lines = content.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const account = parseLine(line);
    if (typeof account === 'string') throw badFile(file, `line ${i + 1}: ${account}`);
    if (accounts.has(account.name)) throw badFile(file, `line ${i + 1}: account ${account.name} appears twice`);
    const homeProblem = await checkHome(root, account.home);
    if (homeProblem !== undefined) throw badFile(file, `line ${i + 1}: home ${account.home} ${homeProblem}`);
    accounts.set(account.name, account);
  }
  return accounts;
}

/** One line → its account, or the reason it is malformed. */
export function parseLine(line: string): Account | string {
  const fields = line.split(':');
  if (fields.length !== 4) return 'needs 4 fields, name:hash:home:ro|rw';
  const [name = '', hashText = '', home = '', access = ''] = fields;
  if (!/^[\x21-\x7e\u00a0-\uffff]+$/u.test(name)) return 'the name must be printable, without spaces';
  const hash = parseHash(hashText);
  if (hash === undefined) return 'the hash is not an scrypt hash from muxftpd --hash-password';
  if (!home.startsWith('/') || home.includes('\0')) return 'the home must be an absolute path inside the root';
  if (access !== 'ro' && access !== 'rw') return 'the last field must be ro or rw';
  return { name, hash, home: joinVirtual('/', home), writable: access === 'rw' };
}

/** The home must be a directory inside the root, reached without symlinks (so its real path is its lexical one). */
async function checkHome(root: string, home: string): Promise<string | undefined> {
  const lexical = path.join(root, relativeOf(home));
  const real = await realpath(lexical).catch(() => undefined);
  if (real === undefined) return 'does not exist';
  if (real !== lexical) return 'must not pass through a symbolic link';
  return (await stat(real)).isDirectory() ? undefined : 'is not a directory';
}

function badFile(file: string, reason: string): ConfigError {
  return new ConfigError(errorCode(settings.users), `bad ${settings.users.flag} ${JSON.stringify(file)}: ${reason}`);
}
