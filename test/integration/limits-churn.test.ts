// Churn: thousands of clients connect and vanish (RST or FIN, before the
// greeting, after login, in the middle of a download). Afterwards the server
// holds no session and the process (server and clients, one process) is back
// to the fds it had before: nothing leaked.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { DataChannel, eventually, FtpControl, withTimeout } from './helpers/clients.js';
import { expectServes, resourceCounts, useServer } from './helpers/server.js';

const srv = useServer({ threads: 2 });
const total = 3000;
const concurrency = 200;

async function vanish(i: number): Promise<void> {
  if (i % 20 === 0) return midTransfer(i);
  const socket = net.connect({ host: srv.host, port: srv.port });
  socket.on('error', () => {});
  await withTimeout(new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)), 10_000, 'connect');
  if (i % 3 === 1) await new Promise((resolve) => socket.once('data', resolve));
  if (i % 5 === 2) socket.write('USER a\r\nPASS b\r\nEPSV\r\n');
  const closed = new Promise((resolve) => socket.once('close', resolve));
  if (i % 2 === 0) socket.resetAndDestroy();
  else socket.destroy();
  await closed;
}

/** Logs in, starts a download of the big file, and resets both connections once data flows. */
async function midTransfer(i: number): Promise<void> {
  const ctl = await FtpControl.login(srv.host, srv.port, 10_000);
  try {
    const channel = await DataChannel.open(ctl, i % 40 === 0 ? 'EPSV' : 'PORT');
    ctl.send(`RETR ${srv.fixture.big.path}`);
    const socket = await withTimeout(channel.connected, 10_000, 'data connection');
    await withTimeout(new Promise((resolve) => socket.once('data', resolve)), 10_000, 'first data');
    channel.reset();
  } finally {
    ctl.socket.resetAndDestroy();
  }
}

describe('churn', () => {
  it(`${total} clients connecting and resetting leave no session and no fd behind`, { timeout: 180_000 }, async () => {
    await expectServes(srv);
    await eventually(async () => (await srv.server.stats()).sessions === 0, 5_000);
    const before = resourceCounts();
    let next = 0;
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < total) {
          const i = next++;
          await vanish(i).catch((e: unknown) => failures.push(`client ${i}: ${String(e)}`));
        }
      }),
    );
    expect(failures.slice(0, 5), `${failures.length} clients failed`).toEqual([]);
    // Every transfer is answered, even one whose session is gone (then as aborted).
    const settled = async () => {
      const s = await srv.server.stats();
      return s.sessions === 0 && s.transfersRunning === 0;
    };
    expect(await eventually(settled, 15_000, 50), JSON.stringify(await srv.server.stats())).toBe(true);
    expect(await eventually(() => resourceCounts().fds <= before.fds, 10_000, 50)).toBe(true);
    expect(resourceCounts().fds).toBe(before.fds);
    expect((await srv.server.stats()).sessionsTotal).toBeGreaterThanOrEqual(total);
    await expectServes(srv);
  });
});
