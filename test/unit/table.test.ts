import { describe, expect, it } from 'vitest';
import { buildRegistry } from '../../src/commands/registry.js';
import { commands } from '../../src/commands/table.js';
import type { CommandSpec } from '../../src/commands/types.js';
import { reply } from '../../src/protocol/replies.js';
import { Session } from '../../src/session/session.js';
import { harness, local, loggedIn, peer } from './helpers/fake-engine.js';

const rows = Object.entries(commands) as [string, CommandSpec][];

describe('command table invariants', () => {
  it('gives every verb an upper-case name, a help line and a handler', () => {
    for (const [verb, spec] of rows) {
      expect(verb).toMatch(/^[A-Z]{3,4}$/);
      expect(spec.help.length, verb).toBeGreaterThan(0);
      expect(spec.help.startsWith(verb), verb).toBe(true);
      expect(typeof spec.handler, verb).toBe('function');
    }
  });

  it('lets ABOR, STAT and NOOP run during a transfer, and no data command nor QUIT (RFC 959 4.1.1)', () => {
    const during = rows.filter(([, s]) => s.duringTransfer === true).map(([v]) => v).sort();
    expect(during).toEqual(['ABOR', 'NOOP', 'STAT']);
  });

  it('marks as data commands (refused while draining) exactly those that set up or run a transfer', () => {
    const data = rows.filter(([, s]) => s.data === true).map(([v]) => v).sort();
    expect(data).toEqual(['APPE', 'EPRT', 'EPSV', 'LIST', 'MLSD', 'NLST', 'PASV', 'PORT', 'RETR', 'STOR', 'STOU']);
    expect(() => buildRegistry({ XTST: { auth: true, arg: 'none', help: 'XTST', handler: () => reply(200, 'ok'), data: 'yes' as unknown as boolean } })).toThrow(
      /data must be a boolean/,
    );
  });

  it('lets only RNTO keep a pending RNFR', () => {
    expect(rows.filter(([, s]) => s.keepsRenameFrom === true).map(([v]) => v)).toEqual(['RNTO']);
  });

  it('needs login for everything but the login, greeting and capability commands', () => {
    const open = rows.filter(([, s]) => !s.auth).map(([v]) => v).sort();
    expect(open).toEqual(['AUTH', 'FEAT', 'HELP', 'NOOP', 'OPTS', 'PASS', 'PBSZ', 'PROT', 'QUIT', 'SYST', 'USER']);
  });

  it('answers FEAT with exactly the feat lines of the table, made for the session', async () => {
    const h = await harness();
    h.send('FEAT');
    const session = new Session(1, peer, local);
    // A made line may be none (the FTPS rows' on a server without TLS).
    const lines = rows.flatMap(([, s]) => (s.feat === undefined ? [] : typeof s.feat === 'string' ? [s.feat] : (s.feat(session) ?? [])));
    const expected = [...new Set(lines)].sort();
    expect(expected).toContain('MLST type*;size*;modify*;perm*;unique*;');
    expect(h.engine.sent).toEqual([
      '220 muxftpd ready\r\n',
      `211-Features:\r\n${expected.map((f) => ` ${f}\r\n`).join('')}211 End\r\n`,
    ]);
  });

  it('lists every verb in HELP and gives each verb its help line', async () => {
    const h = await harness();
    h.send('HELP');
    const text = h.engine.sent[1] ?? '';
    for (const [verb] of rows) expect(text).toMatch(new RegExp(`\\b${verb}\\b`));
    h.send('HELP retr');
    expect(h.engine.sent[2]).toBe(`214 ${commands.RETR.help}\r\n`);
    h.send('HELP XYZZ');
    expect(h.engine.sent[3]).toMatch(/^501 /);
  });
});

describe('extension tables', () => {
  const site: CommandSpec = {
    auth: true,
    arg: 'optional',
    feat: 'SITE',
    help: 'SITE <SP> text (echo)',
    handler: (ctx, arg) => reply(200, `${ctx.session.user ?? ''} says ${arg}`),
  };

  it('adds a verb, with its FEAT and HELP lines', async () => {
    const h = await loggedIn({ commands: { site } });
    h.send('SITE hello', 'FEAT', 'HELP SITE');
    expect(h.engine.sent[0]).toBe('200 anonymous says hello\r\n');
    expect(h.engine.sent[1]).toContain(' SITE\r\n');
    expect(h.engine.sent[2]).toBe('214 SITE <SP> text (echo)\r\n');
  });

  it('overrides a verb and removes one with null', async () => {
    const h = await loggedIn({ commands: { NOOP: { ...commands.NOOP, handler: () => reply(200, 'custom') }, SYST: null } });
    h.send('NOOP', 'SYST', 'HELP');
    expect(h.engine.sent.slice(0, 2)).toEqual(['200 custom\r\n', '502 Command not implemented.\r\n']);
    expect(h.engine.sent[2]).not.toMatch(/\bSYST\b/);
  });

  it("keeps a pending RNFR through a custom row that says so, and forgets it at a row that does not, RNTO's own included", async () => {
    const xrnt: CommandSpec = {
      auth: true,
      arg: 'none',
      keepsRenameFrom: true,
      help: 'XRNT (says the pending RNFR)',
      handler: (ctx) => reply(200, `from ${ctx.session.renameFrom ?? 'nothing'}`),
    };
    const h = await loggedIn({ config: { writable: true }, commands: { XRNT: xrnt, RNTO: { ...commands.RNTO, keepsRenameFrom: false } } });
    h.send('RNFR file.bin', 'XRNT', 'XRNT', 'NOOP', 'XRNT', 'RNFR file.bin', 'RNTO moved.bin');
    await h.replies(7);
    expect(h.codes()).toEqual([350, 200, 200, 200, 200, 350, 503]);
    const said = h.engine.sent.filter((r) => r.startsWith('200 from')).map((r) => r.trimEnd());
    expect(said).toEqual(['200 from /file.bin', '200 from /file.bin', '200 from nothing']);
  });

  it('makes a FEAT line from the session when the row gives a function', async () => {
    const xtst: CommandSpec = { ...site, feat: (s) => `XTST ${s.loggedIn ? 'IN' : 'OUT'}`, help: 'XTST (test)' };
    const h = await harness({ commands: { XTST: xtst } });
    h.send('FEAT', 'USER u', 'PASS p', 'FEAT');
    expect(h.engine.sent[1]).toContain(' XTST OUT\r\n');
    expect(h.engine.sent[4]).toContain(' XTST IN\r\n');
  });

  it("swaps no FEAT line by its text: OPTS MLST changes MLST's made line, not a fixed one that reads the same", async () => {
    const all = 'MLST type*;size*;modify*;perm*;unique*;';
    const own = await loggedIn();
    own.send('OPTS MLST size;', 'FEAT');
    expect(own.engine.sent[1]).toContain(' MLST type;size*;modify;perm;unique;\r\n');
    const fixed = await loggedIn({ commands: { MLST: { ...commands.MLST, feat: all } } });
    fixed.send('OPTS MLST size;', 'FEAT');
    expect(fixed.engine.sent[1]).toContain(` ${all}\r\n`);
  });

  it('answers FEAT with 451 and a log line when a made FEAT line is not one line', async () => {
    const h = await harness({ commands: { XTST: { ...site, feat: () => 'A\r\n211 End', help: 'XTST (test)' } } });
    h.send('FEAT');
    expect(h.codes()).toEqual([220, 451]);
    expect(h.errors.join('\n')).toContain('not one line');
  });

  it('refuses malformed rows at start with a coded error', () => {
    const broken = { auth: true, arg: 'sometimes', help: 'X', handler: site.handler } as unknown as CommandSpec;
    expect(() => buildRegistry({ XBAD: broken })).toThrow(expect.objectContaining({ code: 'MUXFTPD_ERR_BAD_COMMAND' }));
    expect(() => buildRegistry({ XNOH: { ...site, help: '' } })).toThrow(expect.objectContaining({ code: 'MUXFTPD_ERR_BAD_COMMAND' }));
    expect(() => buildRegistry({ 'BAD VERB': site })).toThrow(expect.objectContaining({ code: 'MUXFTPD_ERR_BAD_COMMAND' }));
    const badFeat = { ...site, feat: 42 } as unknown as CommandSpec;
    expect(() => buildRegistry({ XFEA: badFeat })).toThrow(expect.objectContaining({ code: 'MUXFTPD_ERR_BAD_COMMAND' }));
    expect(() => buildRegistry({ XFEA: { ...site, feat: 'A\r\nB' } })).toThrow(expect.objectContaining({ code: 'MUXFTPD_ERR_BAD_COMMAND' }));
    const notBoolean = { ...site, keepsRenameFrom: 'yes' } as unknown as CommandSpec;
    expect(() => buildRegistry({ XRNT: notBoolean })).toThrow(expect.objectContaining({ code: 'MUXFTPD_ERR_BAD_COMMAND' }));
  });
});
