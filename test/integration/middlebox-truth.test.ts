// The address truth of data connections (docs/middlebox.md): every data
// connection is counted in stats().dataAddresses under its class, and a
// mismatch is logged. A second host is a second loopback address: Linux lets
// a socket bind any 127/8 address, so 127.0.0.2 plays the foreign host (or
// the client's private address a NAT left in a PORT).
import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DataAddressClass } from '../../src/ops/address-truth.js';
import { collect, connectTo, DataChannel, eventually, FtpControl, type FtpReply, epsvTarget, pasvTarget } from './helpers/clients.js';
import { inProcess, type TestServer, useServer } from './helpers/server.js';

const other = '127.0.0.2';

async function classes(t: TestServer): Promise<Record<DataAddressClass, number>> {
  return (await t.server.stats()).dataAddresses;
}

/** Waits (bounded) until the class has grown by `by` since `before`. */
async function expectCounted(t: TestServer, before: Record<DataAddressClass, number>, c: DataAddressClass, by = 1): Promise<void> {
  await eventually(async () => (await classes(t))[c] >= before[c] + by, 5_000);
  const now = await classes(t);
  expect(now[c] - before[c], `${c}: ${JSON.stringify(now)}`).toBe(by);
}

/** Connects from `from` to host:port; resolves once the server has closed it (a refused connection) or after `ms`. */
function connectFrom(from: string, host: string, port: number, ms = 5_000): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, localAddress: from });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('open');
    }, ms);
    socket.on('error', () => {});
    socket.once('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
    socket.resume();
  });
}

function passivePort(mode: 'EPSV' | 'PASV', r: FtpReply, ctl: FtpControl): number {
  const target = mode === 'EPSV' ? epsvTarget(r, ctl) : pasvTarget(r);
  if (target === undefined) throw new Error(`${mode} → ${r.lines.join(' / ')}`);
  return target.port;
}

/** The log lines of the test server (testLog writes them through console.warn). */
function watchLog(): string[] {
  const lines: string[] = [];
  vi.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  return lines;
}

afterEach(() => {
  vi.restoreAllMocks();
});

const refusalSuite = (t: TestServer) => {
  for (const mode of ['EPSV', 'PASV'] as const) {
    it(`${mode}: a data connection from another host is refused, counted and logged; the client's own still works`, async () => {
      const log = watchLog();
      const before = await classes(t);
      const ctl = await FtpControl.login(t.host, t.port);
      try {
        const r = await ctl.cmd(mode);
        const port = passivePort(mode, r, ctl);
        expect(await connectFrom(other, t.host, port)).toBe('closed');
        await expectCounted(t, before, 'passiveForeignRefused');
        await eventually(() => log.some((l) => l.includes('refused') && l.includes(other)), 5_000);
        expect(log.some((l) => l.includes('refused') && l.includes(other)), log.join('\n')).toBe(true);
        // The real client connects to the same port and gets its file.
        const socket = net.connect({ host: t.host, port });
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()));
        await ctl.expect(`RETR ${t.files.hello.path}`, 150);
        expect((await ctl.reply()).code).toBe(226);
        await ended;
        expect(Buffer.concat(chunks).equals(t.files.hello.data)).toBe(true);
        await expectCounted(t, before, 'passiveControlPeer');
      } finally {
        ctl.destroy();
      }
    });
  }
};

describe('passive mode, a listener per session', () => {
  const t = useServer({ allowForeignData: true });
  refusalSuite(t);

  it('active to the control peer is counted as seen; to another host as not rewritten, and still transfers', async () => {
    const log = watchLog();
    const before = await classes(t);
    const ctl = await FtpControl.login(t.host, t.port);
    try {
      const own = await DataChannel.open(ctl, 'PORT');
      await ctl.expect(`RETR ${t.files.hello.path}`, 150);
      expect((await ctl.reply()).code).toBe(226);
      expect((await own.result()).sha256).toBe(t.files.hello.sha256);
      await expectCounted(t, before, 'activeAsSeen');

      // A listener on 127.0.0.2: what a PORT left unrewritten by a NAT names.
      const elsewhere = net.createServer();
      await new Promise<void>((resolve) => elsewhere.listen({ host: other, port: 0 }, resolve));
      const { port } = elsewhere.address() as net.AddressInfo;
      const arrived = new Promise<Buffer>((resolve) =>
        elsewhere.once('connection', (socket: net.Socket) => {
          const chunks: Buffer[] = [];
          socket.on('data', (c: Buffer) => chunks.push(c));
          socket.once('close', () => resolve(Buffer.concat(chunks)));
        }),
      );
      try {
        await ctl.expect(`PORT 127,0,0,2,${port >> 8},${port & 255}`, 200);
        await ctl.expect(`RETR ${t.files.hello.path}`, 150);
        expect((await ctl.reply()).code).toBe(226);
        expect((await arrived).equals(t.files.hello.data)).toBe(true);
      } finally {
        elsewhere.close();
      }
      await expectCounted(t, before, 'activeNotRewritten');
      expect(log.some((l) => l.includes('activeNotRewritten') && l.includes(other)), log.join('\n')).toBe(true);
    } finally {
      ctl.destroy();
    }
  });
});

/**
 * A connection from the control peer's own host to a shared port whose
 * reservation has ended is late, not foreign: the address classes must not
 * count it (under load through a NAT they counted hundreds as
 * passiveForeignRefused, with no session). `late` makes one and resolves once
 * the server has closed it.
 */
const lateSuite = (t: TestServer) => {
  async function expectLate(before: { late: number; classes: Record<DataAddressClass, number> }, late: () => Promise<'closed' | 'open'>): Promise<void> {
    expect(await late()).toBe('closed');
    await eventually(async () => (await t.server.stats()).passiveLate > before.late, 5_000);
    const now = await t.server.stats();
    expect(now.passiveLate - before.late).toBe(1);
    expect(now.dataAddresses, 'a late connection has no address class').toEqual(before.classes);
  }
  const snapshot = async () => {
    const s = await t.server.stats();
    return { late: s.passiveLate, classes: s.dataAddresses };
  };

  for (const mode of ['EPSV', 'PASV'] as const) {
    it(`${mode}: a connection to the port of an earlier ${mode} is late, not foreign; the second port still works`, async () => {
      const ctl = await FtpControl.login(t.host, t.port);
      try {
        const first = passivePort(mode, await ctl.cmd(mode), ctl);
        const second = passivePort(mode, await ctl.cmd(mode), ctl);
        expect(second).not.toBe(first);
        const before = await snapshot();
        await expectLate(before, () => connectFrom(t.host, t.host, first));
        const data = collect(await connectTo(t.host, second), false);
        await ctl.expect(`RETR ${t.files.hello.path}`, 150);
        expect((await ctl.reply()).code).toBe(226);
        expect((await data).sha256).toBe(t.files.hello.sha256);
        await expectCounted(t, before.classes, 'passiveControlPeer');
      } finally {
        ctl.destroy();
      }
    });
  }

  it('a second connection to a port whose first was taken is late, not foreign', async () => {
    const ctl = await FtpControl.login(t.host, t.port);
    try {
      const port = passivePort('EPSV', await ctl.cmd('EPSV'), ctl);
      const before = await snapshot();
      const data = collect(await connectTo(t.host, port), false);
      await expectCounted(t, before.classes, 'passiveControlPeer');
      await expectLate(await snapshot(), () => connectFrom(t.host, t.host, port));
      await ctl.expect(`RETR ${t.files.hello.path}`, 150);
      expect((await ctl.reply()).code).toBe(226);
      expect((await data).sha256).toBe(t.files.hello.sha256);
    } finally {
      ctl.destroy();
    }
  });

  it('a connection to the port of a session that has closed is late, not foreign', async () => {
    const ctl = await FtpControl.login(t.host, t.port);
    const port = passivePort('EPSV', await ctl.cmd('EPSV'), ctl);
    await ctl.expect('QUIT', 221);
    await ctl.closed;
    await eventually(async () => (await t.server.stats()).sessions === 0, 5_000);
    await expectLate(await snapshot(), () => connectFrom(t.host, t.host, port));
  });
};

describe('passive mode, a shared port range', () => {
  // Below the kernel's ephemeral range (32768-60999), where no test's
  // throw-away port lands, and apart from the ranges of limits and processes.
  const pasvMin = 30_000 + Math.floor(Math.random() * 100) * 20;
  const t = useServer({ pasvPorts: `${pasvMin}-${pasvMin + 19}` });
  refusalSuite(t);
  lateSuite(t);
});

describe('active mode refused as a bounce', () => {
  const t = useServer({ metricsPort: 0 });

  it('still classifies what the PORT said: a private address as not rewritten, a public one as rewritten elsewhere', async () => {
    const before = await classes(t);
    const ctl = await FtpControl.login(t.host, t.port);
    try {
      await ctl.expect('PORT 127,0,0,2,200,10', 504);
      await expectCounted(t, before, 'activeNotRewritten');
      // TEST-NET-1 (RFC 5737): refused before any connect, so no packet leaves.
      await ctl.expect('EPRT |1|192.0.2.7|51234|', 504);
      await expectCounted(t, before, 'activeRewrittenElsewhere');
      expect((await t.server.stats()).limits.bounce).toBe(2);
      const metrics = await (await fetch(`http://127.0.0.1:${t.server.metrics?.port}/metrics`)).text();
      expect(metrics).toMatch(/^muxftpd_data_connections_total\{class="activeNotRewritten"\} 1$/m);
      expect(metrics).toMatch(/^muxftpd_data_connections_total\{class="activeRewrittenElsewhere"\} 1$/m);
      expect(metrics).toMatch(/^muxftpd_data_connections_total\{class="passiveForeignRefused"\} 0$/m);
    } finally {
      ctl.destroy();
    }
  });
});

describe('passive mode, a shared port another host waits on', () => {
  // One worker and four ports, so that a second session's EPSV comes round to the first one's port;
  // in one process (inProcess), since --processes splits the range and spreads the sessions.
  const pasvMin = 30_000 + Math.floor(Math.random() * 100) * 20 + 10;
  const t = useServer({ ...inProcess, pasvPorts: `${pasvMin}-${pasvMin + 3}`, threads: 1 });

  it('a connection from a host whose reservation ended is foreign, not late, while another host waits on the port', async () => {
    const gone = await FtpControl.login(t.host, t.port, 5_000, other);
    const port = passivePort('EPSV', await gone.cmd('EPSV'), gone);
    await gone.expect('QUIT', 221);
    await gone.closed;
    const ctl = await FtpControl.login(t.host, t.port);
    try {
      let mine = passivePort('EPSV', await ctl.cmd('EPSV'), ctl);
      for (let i = 0; i < 8 && mine !== port; i++) mine = passivePort('EPSV', await ctl.cmd('EPSV'), ctl);
      expect(mine, 'the waiting session came round to the ended port').toBe(port);
      const before = await t.server.stats();
      // From the host whose reservation ended: a thief to the session waiting there.
      expect(await connectFrom(other, t.host, port)).toBe('closed');
      await expectCounted(t, before.dataAddresses, 'passiveForeignRefused');
      expect((await t.server.stats()).passiveLate).toBe(before.passiveLate);
      const data = collect(await connectTo(t.host, port), false);
      await ctl.expect(`RETR ${t.files.hello.path}`, 150);
      expect((await ctl.reply()).code).toBe(226);
      expect((await data).sha256).toBe(t.files.hello.sha256);
    } finally {
      ctl.destroy();
    }
  });
});
