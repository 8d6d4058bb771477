// ESTA and ESTP (pure-ftpd's, docs/middlebox.md): the server tells the client
// the data connection's endpoints as its socket has them, which the test
// compares with the client's own socket; 520 in the other mode; the
// connection ESTA opened carries the next transfer.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { canListen, DataChannel, FtpControl } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

/** (|1|addr|port|) → address and port. */
function endpointOf(text: string): { family: string; address: string; port: number } {
  const m = /\(\|([12])\|([^|]+)\|(\d+)\|\)/.exec(text);
  if (m === null) throw new Error(`no endpoint in ${JSON.stringify(text)}`);
  return { family: m[1] as string, address: m[2] as string, port: Number(m[3]) };
}

const families = [
  { name: 'IPv4', host: '127.0.0.1', family: '1' },
  { name: 'IPv6', host: '::1', family: '2' },
] as const;

for (const f of families) {
  describe.runIf(f.host === '127.0.0.1' || (await canListen('::1')))(`ESTA and ESTP over ${f.name}`, () => {
    const t = useServer({}, f.host);

    it('ESTP after EPSV and the connect names the client end as the server sees it', async () => {
      const ctl = await FtpControl.login(t.host, t.port);
      try {
        const channel = await DataChannel.open(ctl, 'EPSV');
        const socket = await channel.connected;
        const r = await ctl.cmd('ESTP');
        expect(r.code, r.lines.join(' / ')).toBe(225);
        expect(r.text).toMatch(/^Connected to \(\|[12]\|/);
        expect(endpointOf(r.text)).toEqual({ family: f.family, address: socket.localAddress, port: socket.localPort });
        // The connection stays for the next transfer.
        await ctl.expect(`RETR ${t.files.hello.path}`, 150);
        expect((await ctl.reply()).code).toBe(226);
        expect((await channel.result()).sha256).toBe(t.files.hello.sha256);
      } finally {
        ctl.destroy();
      }
    });

    it('ESTA after EPRT connects at once and names the server end; the next RETR uses that connection', async () => {
      const ctl = await FtpControl.login(t.host, t.port);
      try {
        const channel = await DataChannel.open(ctl, 'EPRT');
        const r = await ctl.cmd('ESTA');
        expect(r.code, r.lines.join(' / ')).toBe(225);
        expect(r.text).toMatch(/^Connected from \(\|[12]\|/);
        const socket = await channel.connected;
        expect(endpointOf(r.text)).toEqual({ family: f.family, address: socket.remoteAddress, port: socket.remotePort });
        await ctl.expect(`RETR ${t.files.mib1.path}`, 150);
        expect((await ctl.reply()).code).toBe(226);
        expect((await channel.result()).sha256).toBe(t.files.mib1.sha256);
      } finally {
        ctl.destroy();
      }
    });

    it('answers 520 in the other mode and without a data setup, 425 before the client connects', async () => {
      const ctl = await FtpControl.login(t.host, t.port);
      try {
        expect((await ctl.cmd('ESTA')).code).toBe(520);
        expect((await ctl.cmd('ESTP')).code).toBe(520);
        const passive = await ctl.cmd('EPSV');
        expect(passive.code).toBe(229);
        expect((await ctl.cmd('ESTA')).code).toBe(520);
        // Listening, and the client has not connected: nothing to report.
        expect((await ctl.cmd('ESTP')).code).toBe(425);
        const active = await DataChannel.open(ctl, 'EPRT');
        expect((await ctl.cmd('ESTP')).code).toBe(520);
        active.close();
        // Still a working session.
        expect((await ctl.cmd('NOOP')).code).toBe(200);
      } finally {
        ctl.destroy();
      }
    });

    it('ESTA to a port nobody listens on answers 425 and counts nothing as a transfer', async () => {
      const ctl = await FtpControl.login(t.host, t.port);
      try {
        // A port that was free a moment ago: bound, then closed.
        const probe = net.createServer();
        await new Promise<void>((resolve) => probe.listen({ host: f.host, port: 0 }, resolve));
        const { port } = probe.address() as net.AddressInfo;
        await new Promise<void>((resolve) => probe.close(() => resolve()));
        await ctl.expect(`EPRT |${f.family}|${f.host}|${port}|`, 200);
        expect((await ctl.cmd('ESTA')).code).toBe(425);
        expect((await ctl.cmd('NOOP')).code).toBe(200);
      } finally {
        ctl.destroy();
      }
    });
  });
}
