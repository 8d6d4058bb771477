import { describe, expect, it } from 'vitest';
import type { CommandSpec } from '../../src/commands/types.js';
import { FtpError } from '../../src/errors.js';
import { reply } from '../../src/protocol/replies.js';
import { harness, loggedIn } from './helpers/fake-engine.js';

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
