// startServer({ commands }): an extension table adds SITE, replaces SYST's
// reply and removes MDTM, without touching anything else; HELP and FEAT follow
// the merged table; handler failures become replies, never crashes.
import { describe, expect, it } from 'vitest';
import { type CommandContext, type CommandSpec, FtpError, startServer } from '../../src/index.js';
import { FtpControl, retrieve } from './helpers/clients.js';
import { createLogger } from '../../src/log.js';
import { expectServes, inProcess, type StartOptions, testDefaults, useServer } from './helpers/server.js';

const siteCalls: string[] = [];

const site: CommandSpec = {
  auth: true,
  arg: 'optional',
  help: 'SITE <SP> cmd (site-specific commands)',
  handler: (ctx: CommandContext, arg: string) => {
    siteCalls.push(arg);
    const [sub = '', ...rest] = arg.split(' ');
    switch (sub.toUpperCase()) {
      case '':
        return { code: 200, text: 'SITE commands: WHOAMI ECHO SLOW FAIL DENY' };
      case 'WHOAMI':
        return { code: 200, text: `You are ${ctx.session.user ?? '?'} at ${ctx.session.cwd}.` };
      case 'ECHO':
        return { code: 200, text: rest.join(' ') };
      case 'SLOW':
        return new Promise((resolve) => setTimeout(() => resolve({ code: 200, text: 'slow but done' }), 50));
      case 'FAIL':
        throw new Error('a bug in a custom handler');
      case 'DENY':
        throw new FtpError(550, 'Denied by SITE DENY.');
      default:
        throw new FtpError(504, `SITE ${sub} not implemented.`);
    }
  },
};

const syst: CommandSpec = {
  auth: false,
  arg: 'none',
  help: 'SYST (system type, replaced by the test)',
  handler: () => ({ code: 215, text: 'MUXTEST Type: L8 (replaced)' }),
};

/** The line SITE FAIL must log is kept for its test; any other is shown, as on every test server. */
const siteFailures: string[] = [];
const log = createLogger('warn', (line) => (line.includes('SITE failed') ? siteFailures.push(line) : console.warn(line)));
// In this process (inProcess): these tables are objects, their handlers closures of this file.
const srv = useServer({ ...inProcess, commands: { SITE: site, SYST: syst, MDTM: null }, log });

async function login(): Promise<FtpControl> {
  return FtpControl.login(srv.host, srv.port);
}

describe('custom commands via startServer({ commands })', () => {
  it("SYST's reply is replaced", async () => {
    const ctl = await FtpControl.connect(srv.host, srv.port);
    try {
      const r = await ctl.cmd('SYST');
      expect(r.code).toBe(215);
      expect(r.text).toBe('MUXTEST Type: L8 (replaced)');
      // The table's argument rule still applies to the replaced row.
      expect((await ctl.cmd('SYST now')).code).toBe(501);
    } finally {
      ctl.destroy();
    }
  });

  it('SITE needs login (530), then runs with the session in its context', async () => {
    const ctl = await FtpControl.connect(srv.host, srv.port);
    try {
      expect((await ctl.cmd('SITE WHOAMI')).code).toBe(530);
      expect(siteCalls).not.toContain('WHOAMI');
      await ctl.expect('USER alice', 331);
      await ctl.expect('PASS pw', 230);
      await ctl.expect('CWD /sub', 250);
      const r = await ctl.cmd('site whoami');
      expect(r.code).toBe(200);
      expect(r.text).toBe('You are alice at /sub.');
    } finally {
      ctl.destroy();
    }
  });

  it('SITE gets its argument verbatim (inner spaces kept), or none', async () => {
    const ctl = await login();
    try {
      const r = await ctl.cmd('SITE ECHO a  b   c');
      expect(r.code).toBe(200);
      expect(r.text).toBe('a  b   c');
      expect((await ctl.cmd('SITE')).text).toMatch(/^SITE commands/);
    } finally {
      ctl.destroy();
    }
  });

  it('an async handler is awaited, and commands behind it wait their turn', async () => {
    const ctl = await login();
    try {
      ctl.write('SITE SLOW\r\nNOOP\r\n');
      const first = await ctl.reply();
      const second = await ctl.reply();
      expect([first.code, first.text]).toEqual([200, 'slow but done']);
      expect(second.code).toBe(200);
    } finally {
      ctl.destroy();
    }
  });

  it('a handler throwing FtpError gets its reply; any other throw gets 451; the session goes on', async () => {
    const ctl = await login();
    try {
      expect((await ctl.cmd('SITE DENY')).code).toBe(550);
      expect((await ctl.cmd('SITE NOPE')).code).toBe(504);
      expect((await ctl.cmd('SITE FAIL')).code).toBe(451);
      expect(siteFailures).toHaveLength(1);
      expect(siteFailures[0]).toMatch(/SITE failed: Error: a bug in a custom handler\\n +at /);
      expect((await ctl.cmd('NOOP')).code).toBe(200);
      const got = await retrieve(ctl, 'EPSV', srv.files.hello.path);
      expect(got.sha256).toBe(srv.files.hello.sha256);
    } finally {
      ctl.destroy();
    }
  });

  it('a removed command (MDTM: null) is 502, and FEAT no longer lists it', async () => {
    const ctl = await login();
    try {
      expect((await ctl.cmd('MDTM /hello.txt')).code).toBe(502);
      const feat = await ctl.cmd('FEAT');
      expect(feat.code).toBe(211);
      const features = feat.lines.slice(1, -1).map((l) => l.trim());
      expect(features).not.toContain('MDTM');
      expect(features).toContain('SIZE');
    } finally {
      ctl.destroy();
    }
  });

  it('HELP lists SITE and not MDTM; HELP SITE gives its help line', async () => {
    const ctl = await FtpControl.connect(srv.host, srv.port);
    try {
      const help = await ctl.cmd('HELP');
      expect(help.code).toBe(214);
      const verbs = help.lines.slice(1, -1).join(' ').split(/\s+/);
      expect(verbs).toContain('SITE');
      expect(verbs).toContain('SYST');
      expect(verbs).toContain('RETR');
      expect(verbs).not.toContain('MDTM');
      const one = await ctl.cmd('HELP SITE');
      expect(one.code).toBe(214);
      expect(one.lines.join('\n')).toContain('SITE <SP> cmd (site-specific commands)');
    } finally {
      ctl.destroy();
    }
  });

  it('the built-in commands are untouched', async () => {
    await expectServes(srv);
    await expectServes(srv, 'PASV');
  });
});

describe('bad command tables', () => {
  it.each([
    ['a row without a handler', { FOO: { auth: true, arg: 'none', help: 'FOO' } }],
    ['a row without help', { FOO: { auth: true, arg: 'none', help: '', handler: () => ({ code: 200, text: 'x' }) } }],
    ['a bad argument rule', { FOO: { auth: true, arg: 'sometimes', help: 'FOO', handler: () => ({ code: 200, text: 'x' }) } }],
    ['a verb that is not a word', { 'NO OP': { auth: false, arg: 'none', help: 'x', handler: () => ({ code: 200, text: 'x' }) } }],
  ])('%s: startServer rejects with MUXFTPD_ERR_BAD_COMMAND and leaves nothing running', async (_what, commands) => {
    await expect(
      startServer({ ...testDefaults, ...inProcess, host: '127.0.0.1', port: 0, root: srv.root, commands } as unknown as StartOptions),
    ).rejects.toMatchObject({ code: 'MUXFTPD_ERR_BAD_COMMAND' });
  });
});
