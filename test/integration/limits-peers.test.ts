// --max-per-ip (421 past it, per address), --allow-foreign-data (PORT/EPRT to
// another host allowed; without it they get 504, see bad-input.test.ts), and a
// client that never reads its replies (closed once 1 MiB of them is unsent).
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, FtpControl, withTimeout } from './helpers/clients.js';
import { expectServes, useServer } from './helpers/server.js';

const maxPerIp = 3;
const srv = useServer({ maxPerIp, allowForeignData: true });
const opened: FtpControl[] = [];

afterEach(async () => {
  const all = opened.splice(0);
  for (const c of all) c.destroy();
  await Promise.all(all.map((c) => c.closed));
  // The server must have seen them go before the next test counts clients per address.
  await eventually(async () => (await srv.server.stats()).sessions === 0, 5_000);
});

/** The first line the server sends to a client connecting from `localAddress`. */
async function greetingFrom(localAddress: string): Promise<string> {
  const socket = net.connect({ host: srv.host, port: srv.port, localAddress });
  socket.on('error', () => {});
  try {
    return await withTimeout(
      new Promise<string>((resolve) => {
        let text = '';
        socket.on('data', (c: Buffer) => {
          text += c.toString();
          if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')).trim());
        });
      }),
      5_000,
      `greeting for ${localAddress}`,
    );
  } finally {
    socket.destroy();
  }
}

describe('--max-per-ip', () => {
  it(`client ${maxPerIp + 1} from one address gets 421; another address is still served`, async () => {
    for (let i = 0; i < maxPerIp; i++) opened.push(await FtpControl.login(srv.host, srv.port));
    const extra = await FtpControl.open(srv.host, srv.port);
    opened.push(extra);
    const r = await extra.reply();
    expect(r.code, r.lines.join(' / ')).toBe(421);
    await extra.waitClosed();
    expect((await srv.server.stats()).limits.maxPerIp).toBe(1);
    expect(await greetingFrom('127.0.0.2')).toMatch(/^220 /);
    for (const c of opened.slice(0, maxPerIp)) expect((await c.cmd('NOOP')).code).toBe(200);
  });

  it('a slot frees when a client leaves', async () => {
    for (let i = 0; i < maxPerIp; i++) opened.push(await FtpControl.login(srv.host, srv.port));
    const first = opened[0] as FtpControl;
    await first.expect('QUIT', 221);
    await first.waitClosed();
    expect(await eventually(async () => (await greetingFrom('127.0.0.1')).startsWith('220 '), 5_000)).toBe(true);
  });
});

describe('--allow-foreign-data', () => {
  it('PORT and EPRT may name another host: the data connection goes there', async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    opened.push(ctl);
    for (const command of ['PORT', 'EPRT'] as const) {
      const listener = net.createServer();
      await new Promise<void>((resolve) => listener.listen({ host: '127.0.0.3', port: 0 }, resolve));
      const { port } = listener.address() as net.AddressInfo;
      const received = new Promise<Buffer>((resolve) =>
        listener.once('connection', (s: net.Socket) => {
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c)).once('close', () => resolve(Buffer.concat(chunks)));
        }),
      );
      const line = command === 'PORT' ? `PORT 127,0,0,3,${port >> 8},${port & 255}` : `EPRT |1|127.0.0.3|${port}|`;
      expect((await ctl.cmd(line)).code).toBe(200);
      expect((await ctl.cmd('RETR /hello.txt')).code).toBe(150);
      expect((await ctl.reply()).code).toBe(226);
      expect(await withTimeout(received, 5_000, 'data at 127.0.0.3')).toEqual(srv.files.hello.data);
      listener.close();
    }
  });
});

describe('a client that never reads its replies', () => {
  it('is closed once its unsent output passes the cap; others are served', async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    opened.push(ctl);
    ctl.socket.pause();
    // ~40 MiB of HELP replies asked for, far more than the socket buffers hold.
    const chunk = 'HELP\r\n'.repeat(10_000);
    for (let i = 0; i < 10 && !ctl.socket.destroyed; i++) ctl.write(chunk);
    expect(await eventually(async () => (await srv.server.stats()).limits.outputOverflow >= 1, 20_000, 50)).toBe(true);
    await expectServes(srv);
  });
});
