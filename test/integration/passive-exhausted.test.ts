// PASV and EPSV are answered by the worker, not after a round trip through
// JS: the 227/229 once the listener is up, or a 425 in its place when no
// port of --pasv-ports is free for the client's host. Here the range is one
// port, so a second session from the same host finds none while the first
// waits on it: its 425 comes in order among its replies, its data setup is
// gone, and once the port is free again it gets one.
import { afterEach, describe, expect, it } from 'vitest';
import { DataChannel, epsvTarget, FtpControl, pasvTarget, retrieve } from './helpers/clients.js';
import { expectServes, inProcess, useServer } from './helpers/server.js';

// Below the kernel's ephemeral range, apart from the other tests' ranges.
const pasvPort = 31_000 + Math.floor(Math.random() * 100) * 20 + 7;
// In one process: --processes would split a one-port range it cannot split.
const srv = useServer({ ...inProcess, pasvPorts: `${pasvPort}-${pasvPort}`, threads: 1 });
const opened: FtpControl[] = [];

afterEach(() => {
  for (const c of opened.splice(0)) c.destroy();
});

async function login(): Promise<FtpControl> {
  const ctl = await FtpControl.login(srv.host, srv.port);
  opened.push(ctl);
  return ctl;
}

describe('a passive listener that cannot be opened', () => {
  it('EPSV and PASV get 425 in order, pipelined or not; the port once free serves again', async () => {
    const first = await login();
    expect(epsvTarget(await first.cmd('EPSV'), first)?.port).toBe(pasvPort);

    const second = await login();
    const refused = await second.cmd('EPSV');
    expect(`${refused.code} ${refused.lines.join(' / ')}`).toBe("425 425 Can't open passive connection.");
    expect((await second.cmd('PASV')).code).toBe(425);
    // Pipelined: the 425 comes before the next command's reply, and the
    // transfer behind it finds no data setup.
    second.write('EPSV\r\nNOOP\r\nRETR /hello.txt\r\nSTAT\r\n');
    expect((await second.reply()).code).toBe(425);
    expect((await second.reply()).code).toBe(200);
    expect((await second.reply()).code).toBe(425);
    const stat = await second.reply();
    expect(stat.code).toBe(211);
    expect(stat.lines.join('\n')).toContain('No data connection set up');

    // The first gives the port up (ABOR drops its listener): the second gets it.
    expect((await first.cmd('ABOR')).code).toBe(225);
    const pasv = pasvTarget(await second.cmd('PASV'));
    expect(pasv?.port).toBe(pasvPort);
    const got = await retrieve(second, 'EPSV', '/hello.txt', { keep: true });
    expect(got.final?.code).toBe(226);
    expect(got.data).toEqual(srv.files.hello.data);
    await expectServes(srv);
  });

  it('STAT tells the port of a passive setup', async () => {
    const ctl = await login();
    const channel = await DataChannel.open(ctl, 'EPSV', { keep: true });
    try {
      const stat = await ctl.cmd('STAT');
      expect(stat.lines.join('\n')).toContain(`Passive mode, port ${pasvPort}`);
    } finally {
      channel.close();
    }
  });
});
