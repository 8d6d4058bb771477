import { describe, expect, it } from 'vitest';
import type { CommandSpec } from '../../src/commands/types.js';
import { FtpError } from '../../src/errors.js';
import { reply } from '../../src/protocol/replies.js';
import { commands } from '../../src/commands/table.js';
import { type Harness, harness, loggedIn } from './helpers/fake-engine.js';

const row = (over: Partial<CommandSpec>): CommandSpec => ({
  auth: true,
  arg: 'required',
  help: 'XTST <SP> arg',
  handler: () => reply(200, 'ran'),
  ...over,
});

describe('dispatch order', () => {
  it('checks unknown (502) before anything else', async () => {
    const h = await harness();
    h.send('XYZZ');
    expect(h.codes()).toEqual([220, 502]);
  });

  it('checks the argument (501) before login (530)', async () => {
    const h = await harness({ commands: { XTST: row({}) } });
    h.send('XTST', 'XTST a');
    expect(h.codes()).toEqual([220, 501, 530]);
  });

  it('checks login (530) before state (503)', async () => {
    const h = await harness({ commands: { XTST: row({ state: () => reply(503, 'not now') }) } });
    h.send('XTST a', 'USER u', 'PASS p', 'XTST a');
    expect(h.codes()).toEqual([220, 530, 331, 230, 503]);
  });

  it('lets a validator refuse an argument with its own text', async () => {
    const h = await loggedIn({ commands: { XTST: row({ arg: (a) => (a === 'ok' ? undefined : 'say ok') }) } });
    h.send('XTST no', 'XTST ok');
    expect(h.engine.sent).toEqual(['501 say ok\r\n', '200 ran\r\n']);
  });

  it("refuses an argument to an 'none' command and a missing one to a 'required' one", async () => {
    const h = await loggedIn();
    h.send('PWD x', 'CWD');
    expect(h.codes()).toEqual([501, 501]);
  });

  it('turns a thrown FtpError into its reply', async () => {
    const h = await loggedIn({ commands: { XTST: row({ handler: () => { throw new FtpError(550, 'nope'); } }) } });
    h.send('XTST a');
    expect(h.engine.sent).toEqual(['550 nope\r\n']);
  });

  it('turns an unexpected exception into 451 and a log line, never 500', async () => {
    const h = await loggedIn({
      commands: {
        XTST: row({ handler: () => { throw new TypeError('boom'); } }),
        XASY: row({ handler: () => Promise.reject(new Error('async boom')) }),
      },
    });
    h.send('XTST a', 'XASY a', 'NOOP');
    await h.settle();
    expect(h.codes()).toEqual([451, 451, 200]);
    expect(h.errors.join('\n')).toContain('boom');
    expect(h.errors.join('\n')).toContain('async boom');
  });

  it('answers a plain-Reply handler synchronously (no Promise per line)', async () => {
    const h = await loggedIn();
    h.send('NOOP');
    expect(h.engine.sent).toEqual(['200 NOOP ok.\r\n']);
  });
});

describe('built-in commands', () => {
  it('logs in any user (331, 230), and refuses PASS without USER', async () => {
    const h = await harness();
    h.send('PASS x', 'USER bob', 'PASS', 'PASS again');
    expect(h.codes()).toEqual([220, 503, 331, 230, 230]);
  });

  it('answers SYST, TYPE, MODE, STRU and OPTS per RFC 959 / 2389', async () => {
    const h = await loggedIn();
    h.send('SYST', 'TYPE I', 'TYPE a n', 'TYPE L 8', 'TYPE E', 'TYPE Z', 'MODE S', 'MODE B', 'STRU F', 'STRU R', 'OPTS UTF8 ON', 'OPTS FOO');
    expect(h.engine.sent[0]).toBe('215 UNIX Type: L8\r\n');
    expect(h.codes()).toEqual([215, 200, 200, 200, 504, 501, 200, 504, 200, 504, 200, 501]);
  });

  it('prints the cwd with quotes doubled and moves with CWD/CDUP', async () => {
    const h = await loggedIn();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(`${h.root}/a "q"`);
    h.send('CWD a "q"', 'PWD', 'XPWD', 'CDUP', 'PWD', 'CWD nope', 'CWD file.bin');
    await h.replies(7);
    expect(h.engine.sent).toEqual([
      '250 Directory successfully changed.\r\n',
      '257 "/a ""q""" is the current directory.\r\n',
      '257 "/a ""q""" is the current directory.\r\n',
      '250 Directory successfully changed.\r\n',
      '257 "/" is the current directory.\r\n',
      '550 No such file or directory.\r\n',
      '550 Not a directory.\r\n',
    ]);
  });

  it('answers SIZE in bytes and MDTM in UTC; 550 for directories and missing files', async () => {
    const h = await loggedIn();
    const { utimes } = await import('node:fs/promises');
    await utimes(`${h.root}/file.bin`, 0, new Date(Date.UTC(2024, 0, 2, 3, 4, 5)));
    h.send('SIZE file.bin', 'MDTM file.bin', 'SIZE /', 'MDTM nope');
    await h.replies(4);
    expect(h.engine.sent).toEqual(['213 1000\r\n', '213 20240102030405\r\n', '550 Not a regular file.\r\n', '550 No such file or directory.\r\n']);
  });

  it('answers STAT with a multi-line status and STAT <path> with a listing', async () => {
    const h = await loggedIn();
    h.send('STAT', 'STAT file.bin');
    await h.replies(2);
    expect(h.engine.sent[0]).toMatch(/^211-muxftpd status:\r\n Connected to 127\.0\.0\.1 port 50000\r\n Logged in as anonymous\r\n/);
    expect(h.engine.sent[0]).toMatch(/\r\n211 End of status\r\n$/);
    expect(h.engine.sent[1]).toMatch(/^213-Status of file\.bin:\r\n -rw.* 1000 .* file\.bin\r\n213 End of status\r\n$/);
  });
});

// A handler reports what it did (ctx.report); nothing infers it from a verb
// name or a reply code, so a custom row is counted by what it reports.
describe('what handlers report', () => {
  const loginLines = (h: Harness) => h.errors.filter((l) => (JSON.parse(l) as { msg: string }).msg === 'login');

  it('logs a login and counts refused bounces as the built-in PASS, PORT and EPRT report them', async () => {
    const h = await harness({ logLevel: 'info' });
    h.send('USER anonymous', 'PASS x', 'PASS again', 'PORT 10,0,0,1,200,10', 'EPRT |1|127.0.0.1|21|', 'PORT 127,0,0,1,200,10');
    expect(h.codes()).toEqual([220, 331, 230, 230, 504, 504, 200]);
    expect(loginLines(h)).toHaveLength(1);
    expect(h.server.stats().limits.bounce).toBe(2);
  });

  it('counts nothing for custom PASS and PORT rows that report nothing, whatever their replies', async () => {
    const h = await harness({
      logLevel: 'info',
      commands: {
        PASS: {
          ...commands.PASS,
          handler: (ctx) => {
            ctx.session.loggedIn = true;
            return reply(230, 'in, unreported');
          },
        },
        PORT: { ...commands.PORT, handler: () => reply(504, 'refused, unreported') },
        EPRT: { ...commands.EPRT, handler: () => reply(504, 'refused, unreported') },
      },
    });
    h.send('USER u', 'PASS p', 'PORT 10,0,0,1,0,21', 'EPRT |1|10.0.0.1|21|');
    expect(h.codes()).toEqual([220, 331, 230, 504, 504]);
    expect(h.server.stats().limits.bounce).toBe(0);
    expect(loginLines(h)).toEqual([]);
  });

  it('counts and logs what a custom row of any name reports', async () => {
    const h = await loggedIn({
      logLevel: 'info',
      commands: {
        XREP: {
          auth: true,
          arg: 'required',
          help: 'XREP <SP> event (reports it)',
          handler: (ctx, arg) => {
            ctx.report(arg === 'login' ? 'login' : 'bounce');
            return reply(200, 'reported');
          },
        },
      },
    });
    h.errors.length = 0;
    h.send('XREP bounce', 'XREP bounce', 'XREP login');
    expect(h.server.stats().limits.bounce).toBe(2);
    expect(loginLines(h)).toHaveLength(1);
  });
});
