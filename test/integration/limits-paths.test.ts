// Path escapes, every way in: '..', absolute paths, encoded and foreign
// separators, NUL, and symbolic links out of the root (relative, absolute,
// chained, from deep inside). Each gets 550 (NUL: 501) and sends no byte.
// The last cases skip the TypeScript check with a raw command, to show that
// the engine refuses on its own when it opens (openat2 RESOLVE_BENEATH).
import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { needsDataSetup } from '../../src/commands/table.js';
import { runTransfer } from '../../src/commands/handlers/transfer.js';
import { Code, reply } from '../../src/protocol/replies.js';
import { DataChannel, FtpControl, retrieve } from './helpers/clients.js';
import { expectServes, inProcess, useServer } from './helpers/server.js';

// In this process (inProcess): the command table is an object, with a handler written here.
const srv = useServer({
  ...inProcess,
  commands: {
    // RETR without TypeScript's path check: the argument goes to the engine as is.
    XRAW: {
      auth: true,
      arg: 'required',
      state: needsDataSetup,
      help: 'XRAW <SP> engine-path (test only)',
      handler: (ctx, arg) =>
        runTransfer(ctx, reply(Code.FileStatusOk, 'Raw.'), (opts) => ctx.engine.sendFile(ctx.session.sid, arg, 0, opts)),
    },
  },
});

beforeAll(async () => {
  const root = srv.root;
  const outside = path.join(srv.fixture.dir, 'secret.txt');
  await mkdir(path.join(root, 'sub', 'deeper'), { recursive: true });
  await symlink('../../..', path.join(root, 'sub', 'deeper', 'up-and-out'));
  await symlink(outside, path.join(root, 'absolute-link'));
  await symlink('escape.txt', path.join(root, 'chain-link'));
  await symlink('/etc', path.join(root, 'etc-link'));
  await symlink(path.join(root, 'hello.txt'), path.join(root, 'abs-inside'));
  await symlink('sub/dir/nested.txt', path.join(root, 'rel-inside'));
});

const opened: FtpControl[] = [];
afterEach(() => {
  for (const c of opened.splice(0)) c.destroy();
});

async function login(): Promise<FtpControl> {
  const ctl = await FtpControl.login(srv.host, srv.port);
  opened.push(ctl);
  return ctl;
}

const escapes = [
  '../secret.txt',
  '/../secret.txt',
  '/sub/../../secret.txt',
  'sub/dir/../../../secret.txt',
  '/etc/passwd',
  '//etc/passwd',
  '/..%2Fsecret.txt',
  '..%2F..%2Fsecret.txt',
  '%2e%2e/secret.txt',
  '..\\secret.txt',
  '/escape.txt',
  '/escape-dir/secret.txt',
  '/sub/deeper/up-and-out/secret.txt',
  '/absolute-link',
  '/chain-link',
  '/etc-link/passwd',
];

describe('path escapes get 550 and no data', () => {
  it.each(escapes)('SIZE, MDTM and RETR of %j', async (p) => {
    const ctl = await login();
    expect((await ctl.cmd(`SIZE ${p}`)).code).toBe(550);
    expect((await ctl.cmd(`MDTM ${p}`)).code).toBe(550);
    const got = await retrieve(ctl, 'EPSV', p, { keep: true });
    expect(got.prelim.code, got.prelim.lines.join(' / ')).toBe(550);
    expect(got.bytes).toBe(0);
  });

  it.each(['/escape-dir', '/sub/deeper/up-and-out', '/etc-link', '/..%2F..'])('CWD %j is refused or stays inside', async (p) => {
    const ctl = await login();
    const r = await ctl.cmd(`CWD ${p}`);
    expect(r.code).toBe(550);
    expect((await ctl.cmd('PWD')).text).toMatch(/^"\/"/);
  });

  it('NUL in a path is 501', async () => {
    const ctl = await login();
    ctl.write(Buffer.from('SIZE /hello.txt\0/../../secret.txt\r\n'));
    expect((await ctl.reply()).code).toBe(501);
  });

  it('the engine refuses escapes on its own at open time', async () => {
    const ctl = await login();
    for (const p of ['escape.txt', 'chain-link', 'absolute-link', '../secret.txt', 'escape-dir/secret.txt', '/etc/passwd']) {
      const got = await retrieveRaw(ctl, p);
      expect(got.final, p).toBe(550);
      expect(got.bytes, p).toBe(0);
    }
    const ok = await retrieveRaw(ctl, 'hello.txt');
    expect(ok.final).toBe(226);
    expect(ok.bytes).toBe(srv.files.hello.size);
  });

  // One rule for every command: resolved beneath the root (RESOLVE_BENEATH), an
  // absolute symlink leads out even when its target lies inside; a relative
  // one that stays inside is served by all.
  it('an absolute symlink into the root is refused by every command and left out of listings', async () => {
    const ctl = await login();
    for (const verb of ['SIZE', 'MDTM', 'MLST', 'CWD']) expect((await ctl.cmd(`${verb} /abs-inside`)).code, verb).toBe(550);
    expect((await retrieve(ctl, 'EPSV', '/abs-inside')).prelim.code).toBe(550);
    expect((await ctl.cmd('SIZE /rel-inside')).lines).toEqual([`213 ${srv.files.nested.size}`]);
    expect((await retrieve(ctl, 'EPSV', '/rel-inside')).sha256).toBe(srv.files.nested.sha256);
    for (const verb of ['NLST', 'LIST', 'MLSD']) {
      const channel = await DataChannel.open(ctl, 'EPSV', { keep: true });
      expect((await ctl.cmd(`${verb} /`)).code, verb).toBe(150);
      expect((await ctl.reply()).code, verb).toBe(226);
      const text = (await channel.result()).data?.toString('utf8') ?? '';
      expect(text, verb).toContain('rel-inside');
      expect(text, verb).not.toContain('abs-inside');
      expect(text, verb).not.toContain('etc-link');
      channel.close();
    }
  });

  it('the server still serves', async () => {
    await expectServes(srv);
  });
});

/** XRAW over EPSV: the final reply's code and the bytes that arrived. */
async function retrieveRaw(ctl: FtpControl, p: string): Promise<{ final: number; bytes: number }> {
  const channel = await DataChannel.open(ctl, 'EPSV');
  try {
    const prelim = await ctl.cmd(`XRAW ${p}`);
    if (prelim.code !== 150) return { final: prelim.code, bytes: 0 };
    const final = (await ctl.reply()).code;
    if (final !== 226) return { final, bytes: 0 };
    return { final, bytes: (await channel.result()).bytes };
  } finally {
    channel.close();
  }
}
