// Issue 20, item 6: a graceful drain answers every client. While it drains, a
// data command (PASV…, RETR…) gets 421 and its session is closed, other
// commands are served and a running transfer finishes with 226; at the end
// every session gets 421 before its close; a transfer still running at the
// deadline is aborted with 426 on its command, then 421. Each test drains a
// server of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ServerHandle, startServer, type StartOptions } from '../../src/index.js';
import { DataChannel, FtpControl, stalledDownload, withTimeout } from './helpers/clients.js';
import { expectBaseline, type Fixture, inProcess, makeFixture, type ResourceCounts, resourceCounts, testDefaults, testLog, warmUp } from './helpers/server.js';

let fixture: Fixture | undefined;
let base: ResourceCounts | undefined;
const servers: ServerHandle[] = [];
const opened: FtpControl[] = [];
const channels: DataChannel[] = [];

beforeAll(async () => {
  fixture = await makeFixture();
  await warmUp();
  base = resourceCounts();
}, 60_000);

afterAll(async () => {
  for (const c of opened) c.destroy();
  for (const c of channels) c.close();
  for (const s of servers) await s.close();
  await fixture?.remove();
  if (base !== undefined) await expectBaseline(base);
}, 60_000);

async function start(options: StartOptions = {}): Promise<ServerHandle> {
  if (fixture === undefined) throw new Error('no fixture');
  const server = await startServer({ ...testDefaults, log: testLog(), host: '127.0.0.1', port: 0, root: fixture.root, ...options });
  servers.push(server);
  return server;
}

async function login(server: ServerHandle): Promise<FtpControl> {
  const ctl = await FtpControl.login('127.0.0.1', server.address.port);
  opened.push(ctl);
  return ctl;
}

async function epsv(ctl: FtpControl): Promise<DataChannel> {
  const channel = await DataChannel.open(ctl, 'EPSV');
  channels.push(channel);
  return channel;
}

/** RETR of the 64 MiB file, its reader stopped after the first bytes: the transfer stays running. */
async function stalled(ctl: FtpControl): Promise<DataChannel> {
  const channel = await stalledDownload(ctl, fixture?.big.path ?? '');
  channels.push(channel);
  return channel;
}

describe('drain', () => {
  it('an idle session gets 421, then the close', async () => {
    const server = await start();
    const ctl = await login(server);
    await server.drain(5_000);
    const r = await ctl.reply();
    expect(r.code, r.lines.join(' / ')).toBe(421);
    await ctl.waitClosed();
  });

  it('a transfer still running at the deadline: 426 on its command, then 421, then the close', async () => {
    const server = await start();
    const ctl = await login(server);
    const channel = await stalled(ctl);
    await server.drain(200);
    expect((await ctl.reply()).code).toBe(426);
    expect((await ctl.reply()).code).toBe(421);
    await ctl.waitClosed();
    (await channel.connected).resume();
    expect((await channel.result()).bytes).toBeLessThan(fixture?.big.size ?? 0);
  });

  it('while draining, data commands get 421 and a close, others are served, a running transfer finishes', async () => {
    // In this process (inProcess): with --processes each server process
    // drains on its own, so sessions of another process than the running
    // transfer's are told 421 once that process has no transfer left
    // (docs/scaling.md); this test holds four sessions to one drain.
    const server = await start(inProcess);
    const busy = await login(server);
    const channel = await stalled(busy);
    const prepared = await login(server);
    await epsv(prepared);
    const fresh = await login(server);
    const idle = await login(server);
    const drained = server.drain(60_000);
    // A transfer the client had set up before: refused now.
    const retr = await prepared.cmd(`RETR ${fixture?.files.hello.path ?? ''}`);
    expect(retr.code, retr.lines.join(' / ')).toBe(421);
    await prepared.waitClosed();
    // A new data setup: refused too.
    await fresh.expect('NOOP', 200);
    expect((await fresh.cmd('EPSV')).code).toBe(421);
    await fresh.waitClosed();
    // The running transfer goes on to its end; then the drain says goodbye to everyone.
    (await channel.connected).resume();
    expect((await channel.result(30_000)).bytes).toBe(fixture?.big.size);
    expect((await busy.reply(30_000)).code).toBe(226);
    await withTimeout(drained, 30_000, 'the drain to end');
    expect((await busy.reply()).code).toBe(421);
    await busy.waitClosed();
    expect((await idle.reply()).code).toBe(421);
    await idle.waitClosed();
  });
});
