// Timeouts on a real server: --login-timeout, --idle-timeout, --data-timeout,
// --close-timeout.
// Each closes what it times out (control: 421 and close; data: 425/426 on
// the control connection, which goes on; a closing connection: closed, with
// no reply the client would read) and is counted in stats().
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { DataChannel, describeRun, epsvTarget, eventually, FtpControl, python, withTimeout } from './helpers/clients.js';
import { expectServes, useServer } from './helpers/server.js';

const srv = useServer({ loginTimeout: 1, idleTimeout: 2, dataTimeout: 1, closeTimeout: 1 });
const opened: FtpControl[] = [];
const sockets: net.Socket[] = [];

afterEach(() => {
  for (const c of opened.splice(0)) c.destroy();
  for (const s of sockets.splice(0)) s.destroy();
});

async function login(): Promise<FtpControl> {
  const ctl = await FtpControl.login(srv.host, srv.port);
  opened.push(ctl);
  return ctl;
}

/** The next reply is 421 and the server closes the connection. */
async function expectClosedWith421(ctl: FtpControl, withinMs: number): Promise<void> {
  const r = await ctl.reply(withinMs);
  expect(r.code, r.lines.join(' / ')).toBe(421);
  await ctl.waitClosed(withinMs);
}

describe('--login-timeout', () => {
  it('a client that never logs in gets 421 and is closed', async () => {
    const ctl = await FtpControl.connect(srv.host, srv.port);
    opened.push(ctl);
    await expectClosedWith421(ctl, 5_000);
    expect((await srv.server.stats()).limits.loginTimeout).toBeGreaterThanOrEqual(1);
  });

  it('a slow client sending one byte at a time, never a whole line, is closed too', async () => {
    const ctl = await FtpControl.connect(srv.host, srv.port);
    opened.push(ctl);
    const drip = setInterval(() => ctl.write('N'), 200);
    try {
      await expectClosedWith421(ctl, 5_000);
    } finally {
      clearInterval(drip);
    }
  });

  it('commands before login do not extend it', async () => {
    const ctl = await FtpControl.connect(srv.host, srv.port);
    opened.push(ctl);
    const codes: number[] = [];
    for (;;) {
      const r = await ctl.cmd('NOOP', 5_000);
      codes.push(r.code);
      if (r.code !== 200) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(codes.at(-1)).toBe(421);
    await ctl.waitClosed();
  });
});

describe('--idle-timeout', () => {
  it('a logged-in client that sends nothing gets 421 and is closed', async () => {
    const ctl = await login();
    const before = (await srv.server.stats()).limits.idleTimeout;
    await expectClosedWith421(ctl, 6_000);
    expect((await srv.server.stats()).limits.idleTimeout).toBe(before + 1);
  });

  it('a client sending a command now and then stays', async () => {
    const ctl = await login();
    for (let i = 0; i < 6; i++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect((await ctl.cmd('NOOP')).code).toBe(200);
    }
  });
});

describe('--data-timeout', () => {
  it('a client that never reads the data connection: 426, and the control connection goes on', async () => {
    const ctl = await login();
    const channel = await DataChannel.open(ctl, 'EPSV');
    (await channel.connected).pause();
    const timeouts = (await srv.server.stats()).transfers.timeout;
    expect((await ctl.cmd(`RETR ${srv.fixture.big.path}`)).code).toBe(150);
    const r = await ctl.reply(8_000);
    expect(r.code, r.lines.join(' / ')).toBe(426);
    channel.close();
    expect((await ctl.cmd('NOOP')).code).toBe(200);
    const stats = (await srv.server.stats());
    expect(stats.transfers.timeout).toBe(timeouts + 1);
    expect(stats.limits.dataTimeout).toBeGreaterThanOrEqual(1);
  });

  it('a passive listener nobody connects to is dropped: the transfer fails, the session goes on', async () => {
    const ctl = await login();
    expect((await ctl.cmd('EPSV')).code).toBe(229);
    expect((await ctl.cmd('RETR /hello.txt')).code).toBe(150);
    const r = await ctl.reply(8_000);
    // The engine reports a timeout for the listener as for a stalled connection.
    expect([425, 426], r.lines.join(' / ')).toContain(r.code);
    expect((await ctl.cmd('NOOP')).code).toBe(200);
  });

  it('passive port theft: a connection from another address is dropped; the client then gets its file', async () => {
    const ctl = await login();
    const target = epsvTarget(await ctl.cmd('EPSV'), ctl);
    if (target === undefined) throw new Error('EPSV failed');
    const thief = net.connect({ host: target.host, port: target.port, localAddress: '127.0.0.2' });
    sockets.push(thief);
    thief.on('error', () => {});
    thief.resume();
    await withTimeout(new Promise((resolve) => thief.once('close', resolve)), 5_000, 'the thief to be dropped');
    const data = net.connect({ host: target.host, port: target.port });
    sockets.push(data);
    const chunks: Buffer[] = [];
    data.on('data', (c: Buffer) => chunks.push(c));
    const ended = new Promise((resolve) => data.once('close', resolve));
    expect((await ctl.cmd('RETR /hello.txt')).code).toBe(150);
    expect((await ctl.reply()).code).toBe(226);
    await withTimeout(ended, 5_000, 'data connection to end');
    expect(Buffer.concat(chunks)).toEqual(srv.files.hello.data);
  });

  it('the server still serves', async () => {
    await expectServes(srv);
  });
});

describe.skipIf(missing('python3', 'ss'))('--close-timeout', () => {
  // Another process, so the client's socket stays unread while the server
  // runs on this thread. After the login it reads nothing while it sends
  // HELPs, until the server's kernel send queue (ss) stops growing: the rest
  // of the replies and the 221 of its QUIT then wait in the server's own
  // output, from where a reader's progress is seen only once the kernel's
  // queue has half emptied. argv: host port mode; mode "never" waits 5 s and then reads all
  // it can, "slow" reads 200 KB every 0.4 s. Prints the bytes read and the
  // last line.
  const script = `
import shutil, socket, subprocess, sys, time
if shutil.which('ss') is None:
    sys.exit('ss (iproute2) is needed to see the server send queue')
port = sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect((sys.argv[1], int(port)))
f = s.makefile('rb')
f.readline()
for line in (b'USER anonymous', b'PASS x'):
    s.sendall(line + b'\\r\\n')
    f.readline()
me = s.getsockname()[1]
def server_queue():
    cols = subprocess.run(['ss', '-tnH', f'sport = :{port} and dport = :{me}'], capture_output=True, text=True).stdout.split()
    return int(cols[2])
queued = 0
for _ in range(200):
    s.sendall(b'HELP\\r\\n' * 250)
    # Half the idle timeout (2 s): the wait after the queue stops growing
    # must not itself look idle to the server's sweep.
    deadline = time.time() + 1
    while time.time() < deadline and server_queue() == queued:
        time.sleep(0.02)
    if server_queue() == queued:
        break
    queued = server_queue()
# ~470 KB more waits in the server's own buffer (under its 1 MiB cap), so a
# slow reader takes seconds to reach the 221.
s.sendall(b'HELP\\r\\n' * 1500 + b'QUIT\\r\\n')
s.settimeout(10)
data = bytearray()
if sys.argv[3] == 'never':
    time.sleep(5)
    data += f.read()
else:
    while True:
        goal = len(data) + 200000
        while len(data) < goal:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        if len(data) < goal:
            break
        time.sleep(0.4)
print(len(data))
print(bytes(data).rstrip().split(b'\\r\\n')[-1].decode('latin1'))
`;

  async function quitWithoutReading(mode: 'never' | 'slow'): Promise<{ closedByTimeout: boolean; bytes: number; last: string }> {
    const before = (await srv.server.stats()).limits;
    const run = python(script, [srv.host, String(srv.port), mode], 50_000);
    let exited = false;
    void run.finally(() => (exited = true));
    const timedOut = async () => (await srv.server.stats()).limits.closeTimeout > before.closeTimeout;
    await eventually(async () => exited || (await timedOut()), 45_000, 50);
    const r = await run;
    expect(r.code, describeRun(r)).toBe(0);
    // Not the other cap on unread output.
    expect((await srv.server.stats()).limits.outputOverflow).toBe(before.outputOverflow);
    const [bytes, last] = r.stdout.toString().trim().split('\n');
    return { closedByTimeout: await timedOut(), bytes: Number(bytes), last: last ?? '' };
  }

  it('a client that quits but never reads its replies is closed without them', { timeout: 60_000 }, async () => {
    const sessions = (await srv.server.stats()).sessions;
    const r = await quitWithoutReading('never');
    // Closed at the close timeout (1 s here), while the client held its
    // socket open: what the kernel had already taken arrives, then the end.
    expect(r.closedByTimeout).toBe(true);
    expect(r.bytes).toBeGreaterThan(0);
    expect(r.last).not.toMatch(/^221/);
    expect((await srv.server.stats()).sessions).toBeLessThanOrEqual(sessions);
    await expectServes(srv);
  });

  it('a client that reads its last replies slowly gets them all, up to the 221', { timeout: 60_000 }, async () => {
    // Each pause is shorter than the timeout; the whole read is much longer.
    const r = await quitWithoutReading('slow');
    expect(r.closedByTimeout).toBe(false);
    expect(r.last).toBe('221 Goodbye.');
    expect(r.bytes).toBeGreaterThan(1_000_000);
  });
});
