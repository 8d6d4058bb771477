// A file operation whose session is gone before it runs is answered by the
// worker with -ECONNRESET (by a stopping engine with -ECANCELED): the client
// has left, nothing is wrong with the server, and nothing is logged above
// debug (it was a 451 and an error line per such command).
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { pass } from '../../src/commands/handlers/auth.js';
import type { CommandContext } from '../../src/commands/types.js';
import { createLogger } from '../../src/log.js';
import { Session } from '../../src/session/session.js';
import { SessionFiles } from '../../src/vfs/files.js';
import { local, loggedIn, peer } from './helpers/fake-engine.js';

const { ECANCELED, ECONNRESET } = os.constants.errno;

/** The log lines at warn or above (pino levels: 40 warn, 50 error). */
function loud(lines: string[]): string[] {
  return lines.filter((l) => (JSON.parse(l) as { level: number }).level >= 40);
}

describe('a file operation whose session is gone', () => {
  it('is not logged, nor answered, when the client left (ECONNRESET)', async () => {
    const h = await loggedIn({ logLevel: 'debug' });
    h.engine.fileOpError = -ECONNRESET;
    h.send('SIZE file.bin');
    h.server.onClosed(1, 'peerClosed');
    await h.settle();
    expect(loud(h.errors)).toEqual([]);
    expect(h.errors.join('\n')).toContain('session 1: SIZE: file operation not done: ECONNRESET');
    expect(h.engine.sent).toEqual([]);
  });

  it('is not logged when the engine stopped under it (ECANCELED), and closes the session', async () => {
    const h = await loggedIn({ logLevel: 'debug' });
    h.engine.fileOpError = -ECANCELED;
    h.send('CWD /');
    await h.settle();
    expect(loud(h.errors)).toEqual([]);
    // A stopped engine sends none of it; a live one would close the session.
    expect(h.engine.sent).toEqual(['421 Session closed.\r\n']);
    expect(h.engine.actions).toEqual(['close']);
  });

  it('is not logged when it was a login moving into its home', async () => {
    const lines: string[] = [];
    const session = new Session(7, peer, local);
    session.user = 'alice';
    const ctx = {
      session,
      log: createLogger('debug', (line) => lines.push(line)),
      config: { noAnonymous: true },
      accounts: new Map([['alice', { name: 'alice', hash: 'unused', home: '/home/alice', writable: false }]]),
      logins: { check: () => Promise.resolve('ok') },
      files: new SessionFiles({ fileOp: () => Promise.resolve({ error: -ECONNRESET, records: Buffer.alloc(0) }) }, 7),
      isClosed: true,
    } as unknown as CommandContext;
    const r = await pass(ctx, 'secret');
    expect(r.code).toBe(530);
    expect(loud(lines)).toEqual([]);
    expect(lines.join('\n')).toContain('session 7: cannot enter home /home/alice: file operation not done: ECONNRESET');
  });
});
