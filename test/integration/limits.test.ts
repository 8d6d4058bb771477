// Settings that limit or shape what clients get, on a real server:
// maxClients (421 past it), pasvPorts (passive ports inside the range),
// pasvAddress (announced by PASV), maxLine (500 past it).
import { afterEach, describe, expect, it } from 'vitest';
import { canListenOn, epsvTarget, eventually, FtpControl, pasvTarget, retrieve } from './helpers/clients.js';
import { expectServes, useServer } from './helpers/server.js';

const maxClients = 5;
// A range above Linux's default ephemeral ports (32768-60999), so that no
// outgoing connection of the tests holds one; different per run.
const pasvMin = 61_000 + Math.floor(Math.random() * 200) * 20;
const pasvMax = pasvMin + 19;

const srv = useServer(
  {
    maxClients,
    pasvPorts: `${pasvMin}-${pasvMax}`,
    // Announced in PASV replies. The server binds 0.0.0.0, so its range
    // listeners take any local address and 127.0.0.2 reaches them (bound to
    // one address, they would take only that one).
    pasvAddress: '127.0.0.2',
    maxLine: 512,
  },
  '127.0.0.1',
  {
    bind: '0.0.0.0',
    // close() must give the passive ports back: another server (or a restart) needs them.
    afterClose: async () => {
      const held: number[] = [];
      for (let port = pasvMin; port <= pasvMax; port++) if (!(await canListenOn('0.0.0.0', port))) held.push(port);
      expect(held, 'passive ports still bound after close()').toEqual([]);
    },
  },
);

const opened: FtpControl[] = [];

afterEach(async () => {
  const all = opened.splice(0);
  for (const c of all) c.destroy();
  // The server must have seen these go before the next test counts clients
  // (a client's FIN is a half-close: the session ends once JS has answered).
  await Promise.all(all.map((c) => c.closed));
  expect(await eventually(async () => (await srv.server.stats()).sessions === 0, 5000)).toBe(true);
});

describe('--max-clients', () => {
  it(`client ${maxClients + 1} gets 421 and is closed; once one leaves, a new one is served`, async () => {
    for (let i = 0; i < maxClients; i++) opened.push(await FtpControl.login(srv.host, srv.port));
    const extra = await FtpControl.open(srv.host, srv.port);
    opened.push(extra);
    const r = await extra.reply();
    expect(r.code, r.lines.join(' / ')).toBe(421);
    await extra.waitClosed();
    // The ones already in are unaffected.
    for (const c of opened.slice(0, maxClients)) expect((await c.cmd('NOOP')).code).toBe(200);
    const first = opened[0] as FtpControl;
    await first.expect('QUIT', 221);
    await first.waitClosed();
    // The server frees the slot when it sees the close; retry briefly until it has.
    let next: FtpControl | undefined;
    for (let attempt = 0; attempt < 50 && next === undefined; attempt++) {
      const c = await FtpControl.open(srv.host, srv.port);
      opened.push(c);
      const greeting = await c.reply();
      if (greeting.code === 220) next = c;
      else await new Promise((res) => setTimeout(res, 20));
    }
    expect(next, 'a client after one left').toBeDefined();
  });
});

describe('--pasv-ports and --pasv-address', () => {
  it('EPSV and PASV ports lie inside the range, and downloads through them work', async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    opened.push(ctl);
    for (let i = 0; i < 10; i++) {
      const epsv = epsvTarget(await ctl.cmd('EPSV'), ctl);
      expect(epsv?.port).toBeGreaterThanOrEqual(pasvMin);
      expect(epsv?.port).toBeLessThanOrEqual(pasvMax);
      const pasv = pasvTarget(await ctl.cmd('PASV'));
      expect(pasv?.port).toBeGreaterThanOrEqual(pasvMin);
      expect(pasv?.port).toBeLessThanOrEqual(pasvMax);
    }
    // The PASV download connects to the announced 127.0.0.2.
    for (const mode of ['EPSV', 'PASV'] as const) {
      const got = await retrieve(ctl, mode, srv.files.mib1.path);
      expect(got.sha256).toBe(srv.files.mib1.sha256);
    }
  });

  it('PASV announces the configured address', async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    opened.push(ctl);
    const r = await ctl.cmd('PASV');
    expect(r.code).toBe(227);
    expect(pasvTarget(r)?.host).toBe('127.0.0.2');
  });
});

describe('--max-line', () => {
  it('a line of 512 bytes is served, one of 513 gets 500', async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    opened.push(ctl);
    const at = 'SIZE /' + 'a'.repeat(512 - 'SIZE /'.length);
    expect((await ctl.cmd(at)).code).toBe(550);
    expect((await ctl.cmd(at + 'a')).code).toBe(500);
    expect((await ctl.cmd('NOOP')).code).toBe(200);
  });

  it('the server still serves', async () => {
    await expectServes(srv);
  });
});
