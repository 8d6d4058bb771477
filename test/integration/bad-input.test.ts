// Bad input gets the right FTP reply, never a crash, never a hang, and never
// touches another client (DESIGN.md). Every case is followed by a check that
// the server still serves a download to someone else.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { DataChannel, describeRun, FtpControl, freePort, python, retrieve, stalledDownload as stalled, withTimeout } from './helpers/clients.js';
import { expectServes, useServer } from './helpers/server.js';

const srv = useServer();
const opened: FtpControl[] = [];

async function connect(): Promise<FtpControl> {
  const ctl = await FtpControl.connect(srv.host, srv.port);
  opened.push(ctl);
  return ctl;
}

async function login(): Promise<FtpControl> {
  const ctl = await FtpControl.login(srv.host, srv.port);
  opened.push(ctl);
  return ctl;
}

afterEach(() => {
  for (const c of opened.splice(0)) c.destroy();
});

/** Sends `line` and returns the reply code, with the reply in the failure message. */
async function codeOf(ctl: FtpControl, line: string): Promise<{ code: number; text: string }> {
  const r = await ctl.cmd(line);
  return { code: r.code, text: r.lines.join(' / ') };
}

/**
 * A client that logs in, sends each of argv[5:] and reads its reply, then
 * sends argv[3] and, from a thread, floods 300 writes of 10,000 argv[4] lines
 * while it prints every reply line until the server closes. It is another
 * process: the server shares vitest's JS thread, which would hold the flood
 * back and let the worker read all of it, and what the server has not read
 * when it closes makes the close a reset.
 */
const floodScript = `
import socket, sys, threading
host, port, first, line = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = socket.create_connection((host, port), timeout=10)
f = s.makefile('rb')
f.readline()
for setup in [b'USER anonymous', b'PASS x'] + [a.encode() for a in sys.argv[5:]]:
    s.sendall(setup + b'\\r\\n')
    f.readline()
s.sendall(first.encode() + b'\\r\\n')
def flood():
    try:
        for _ in range(300):
            s.sendall((line + '\\r\\n').encode() * 10000)
    except OSError:
        pass
t = threading.Thread(target=flood)
t.start()
try:
    while True:
        reply = f.readline()
        if not reply:
            break
        print(reply.decode('latin1').rstrip())
except OSError as e:
    print('error', type(e).__name__)
t.join()
`;

describe('reply codes before login', () => {
  it.each([
    ['an unknown command', 'XYZZY', 502],
    ['an unknown command with an argument', 'FOO bar baz', 502],
    ['an unknown command in lower case', 'frobnicate', 502],
    ['USER without a name', 'USER', 501],
    ['NOOP with an argument', 'NOOP now', 501],
    ['PASS before USER', 'PASS secret', 503],
    ['RETR before login', 'RETR /hello.txt', 530],
    ['SIZE before login', 'SIZE /hello.txt', 530],
    ['MDTM before login', 'MDTM /hello.txt', 530],
    ['CWD before login', 'CWD /sub', 530],
    ['PWD before login', 'PWD', 530],
    ['LIST before login', 'LIST', 530],
    ['NLST before login', 'NLST', 530],
    ['PASV before login', 'PASV', 530],
    ['EPSV before login', 'EPSV', 530],
    ['PORT before login', 'PORT 127,0,0,1,200,10', 530],
    ['EPRT before login', 'EPRT |1|127.0.0.1|51210|', 530],
    ['REST before login', 'REST 10', 530],
    ['TYPE before login', 'TYPE I', 530],
    ['an empty line', '', 500],
    ['a line of spaces', '    ', 500],
  ])('%s (%j) → %i', async (_what, line, code) => {
    const ctl = await connect();
    const r = await codeOf(ctl, line);
    expect(r.code, r.text).toBe(code);
    // The connection stays usable after the refusal.
    expect((await codeOf(ctl, 'NOOP')).code).toBe(200);
  });

  it('commands that need no login work before it: SYST 215, FEAT 211, HELP 214, NOOP 200', async () => {
    const ctl = await connect();
    expect((await codeOf(ctl, 'SYST')).code).toBe(215);
    expect((await codeOf(ctl, 'FEAT')).code).toBe(211);
    expect((await codeOf(ctl, 'HELP')).code).toBe(214);
    expect((await codeOf(ctl, 'noop')).code).toBe(200);
  });

  it('USER then a command needing login is 530 until PASS', async () => {
    const ctl = await connect();
    await ctl.expect('USER anonymous', 331);
    expect((await codeOf(ctl, 'PWD')).code).toBe(530);
    await ctl.expect('PASS x', 230);
    expect((await codeOf(ctl, 'PWD')).code).toBe(257);
  });
});

describe('reply codes after login', () => {
  it.each([
    ['an unknown command', 'XYZZY', 502],
    ['RETR without a path', 'RETR', 501],
    ['SIZE without a path', 'SIZE', 501],
    ['MDTM without a path', 'MDTM', 501],
    ['CWD without a path', 'CWD', 501],
    ['REST without an offset', 'REST', 501],
    ['REST with letters', 'REST abc', 501],
    ['REST with a negative offset', 'REST -5', 501],
    ['PORT without an address', 'PORT', 501],
    ['PORT with too few numbers', 'PORT 127,0,0,1,200', 501],
    ['PORT with a number over 255', 'PORT 127,0,0,1,300,1', 501],
    ['PORT with letters', 'PORT a,b,c,d,e,f', 501],
    ['EPRT without an argument', 'EPRT', 501],
    ['EPRT with a missing port', 'EPRT |1|127.0.0.1|', 501],
    ['EPRT with a bad address', 'EPRT |1|999.1.1.1|5000|', 501],
    ['EPRT with garbage', 'EPRT garbage', 501],
    ['EPSV with a bad argument', 'EPSV foo', 501],
    ['TYPE without an argument', 'TYPE', 501],
    ['TYPE with an unknown type', 'TYPE Q', 501],
    ['MODE without an argument', 'MODE', 501],
    ['STRU without an argument', 'STRU', 501],
    ['PWD with an argument', 'PWD /', 501],
    ['PASV with an argument', 'PASV 1', 501],
    ['RETR before PASV/PORT', 'RETR /hello.txt', 425],
    ['LIST before PASV/PORT', 'LIST', 425],
    ['NLST before PASV/PORT', 'NLST', 425],
    ['PASS when logged in (no new USER)', 'PASS again', 230],
    ['SIZE of a missing file', 'SIZE /no-such-file', 550],
    ['MDTM of a missing file', 'MDTM /no-such-file', 550],
    ['SIZE of a directory', 'SIZE /sub', 550],
    ['CWD to a missing directory', 'CWD /no-such-dir', 550],
    ['CWD to a file', 'CWD /hello.txt', 550],
    ['SIZE of a path outside the root by ..', 'SIZE ../../../../../../etc/passwd', 550],
    ['SIZE of the file outside the root by ..', 'SIZE /../secret.txt', 550],
    ['SIZE through a symlink leading out of the root', 'SIZE /escape.txt', 550],
    ['MDTM through a symlink leading out of the root', 'MDTM /escape.txt', 550],
    ['CWD into a symlinked directory outside the root', 'CWD /escape-dir', 550],
    ['SIZE through a symlinked directory outside the root', 'SIZE /escape-dir/secret.txt', 550],
    ['PORT to another host (FTP bounce)', 'PORT 10,0,0,1,200,10', 504],
    ['PORT to a privileged port', 'PORT 127,0,0,1,0,21', 504],
    ['EPRT to another host (FTP bounce)', 'EPRT |1|10.0.0.1|51210|', 504],
    ['EPRT with IPv6 on an IPv4 connection', 'EPRT |2|::1|51210|', 522],
    ['EPRT with an unknown protocol', 'EPRT |3|foo|51210|', 522],
    ['EPSV for IPv6 on an IPv4 connection', 'EPSV 2', 522],
    ['ABOR with no transfer', 'ABOR', 225],
    ['STAT of a missing path', 'STAT /no-such-dir', 550],
    ['STAT of a symlinked directory outside the root', 'STAT /escape-dir', 550],
  ])('%s (%j) → %i', async (_what, line, code) => {
    const ctl = await login();
    const r = await codeOf(ctl, line);
    expect(r.code, r.text).toBe(code);
    expect((await codeOf(ctl, 'NOOP')).code).toBe(200);
  });

  it('counts each refused PORT/EPRT (FTP bounce) in limits.bounce, and nothing else there', async () => {
    const ctl = await login();
    const before = (await srv.server.stats()).limits.bounce;
    for (const line of ['PORT 10,0,0,1,200,10', 'PORT 127,0,0,1,0,21', 'EPRT |1|10.0.0.1|51210|', 'EPRT |1|127.0.0.1|21|']) {
      const r = await codeOf(ctl, line);
      expect(r.code, r.text).toBe(504);
    }
    expect((await srv.server.stats()).limits.bounce).toBe(before + 4);
    expect((await codeOf(ctl, 'PORT 127,0,0,1,200,10')).code).toBe(200);
    expect((await codeOf(ctl, 'EPRT |1|127.0.0.1|51210|')).code).toBe(200);
    expect((await codeOf(ctl, 'PORT 1,2,3')).code).toBe(501);
    expect((await codeOf(ctl, 'EPRT |2|::1|51210|')).code).toBe(522);
    expect((await srv.server.stats()).limits.bounce).toBe(before + 4);
  });

  it('RETR with no data setup is 425 even after REST, and then a set-up RETR works', async () => {
    const ctl = await login();
    expect((await codeOf(ctl, 'REST 100')).code).toBe(350);
    expect((await codeOf(ctl, 'RETR /hello.txt')).code).toBe(425);
    const got = await retrieve(ctl, 'EPSV', srv.files.mib1.path, { rest: 0 });
    expect(got.final?.code).toBe(226);
    expect(got.sha256).toBe(srv.files.mib1.sha256);
  });

  it('after EPSV ALL, PASV, PORT and EPRT are 503 and EPSV still works', async () => {
    const ctl = await login();
    expect((await codeOf(ctl, 'EPSV ALL')).code).toBe(200);
    expect((await codeOf(ctl, 'PASV')).code).toBe(503);
    expect((await codeOf(ctl, 'PORT 127,0,0,1,200,10')).code).toBe(503);
    expect((await codeOf(ctl, 'EPRT |1|127.0.0.1|51210|')).code).toBe(503);
    const got = await retrieve(ctl, 'EPSV', srv.files.hello.path);
    expect(got.final?.code).toBe(226);
    expect(got.sha256).toBe(srv.files.hello.sha256);
  });

  it('CWD .. stops at the root: PWD stays "/"', async () => {
    const ctl = await login();
    expect((await codeOf(ctl, 'CWD ../../..')).code).toBe(250);
    const pwd = await ctl.cmd('PWD');
    expect(pwd.code).toBe(257);
    expect(pwd.text).toMatch(/^"\/"/);
    expect((await codeOf(ctl, 'CDUP')).code).toBe(250);
    expect((await ctl.cmd('PWD')).text).toMatch(/^"\/"/);
  });

  it('RETR of a path outside the root is 550 and no data is sent', async () => {
    const ctl = await login();
    for (const p of ['/escape.txt', '/escape-dir/secret.txt', '../secret.txt', '/../../secret.txt']) {
      const got = await retrieve(ctl, 'EPSV', p, { keep: true });
      expect(got.prelim.code, `${p}: ${got.prelim.lines.join(' / ')}`).toBe(550);
      expect(got.data ?? Buffer.alloc(0)).toHaveLength(0);
    }
  });

  it('LIST and NLST of a missing path or one outside the root are 550, and nothing is listed', async () => {
    const ctl = await login();
    for (const line of ['LIST /no-such-dir', 'NLST /no-such-dir', 'LIST /escape-dir', 'NLST /escape-dir', 'LIST ../..']) {
      const channel = await DataChannel.open(ctl, 'EPSV', { keep: true });
      try {
        const r = await ctl.cmd(line);
        if (line === 'LIST ../..') {
          // '..' stops at the root: this lists the root itself.
          expect(r.code, `${line}: ${r.lines.join(' / ')}`).toBe(150);
          expect((await ctl.reply()).code).toBe(226);
          const listing = (await channel.result()).data?.toString() ?? '';
          expect(listing).toContain('hello.txt');
          expect(listing).not.toContain('secret.txt');
        } else {
          expect(r.code, `${line}: ${r.lines.join(' / ')}`).toBe(550);
        }
      } finally {
        channel.close();
      }
    }
  });

  it('PORT to a port nobody listens on: 150, then 425, and the session goes on', async () => {
    const ctl = await login();
    const port = await freePort();
    await ctl.expect(`PORT 127,0,0,1,${port >> 8},${port & 255}`, 200);
    expect((await ctl.cmd('RETR /hello.txt')).code).toBe(150);
    expect((await ctl.reply()).code).toBe(425);
    const got = await retrieve(ctl, 'PORT', srv.files.mib1.path);
    expect(got.sha256).toBe(srv.files.mib1.sha256);
  });

  it('RETR of a directory is 550', async () => {
    const ctl = await login();
    const got = await retrieve(ctl, 'EPSV', '/sub');
    expect(got.prelim.code, got.prelim.lines.join(' / ')).toBe(550);
  });

  it('the server still serves after all of the above', async () => {
    await expectServes(srv);
    await expectServes(srv, 'PORT');
  });
});

describe('framing and garbage', () => {
  it('a line over 8 KiB gets 500, and the next line is served', async () => {
    const ctl = await login();
    ctl.write('NOOP ' + 'A'.repeat(9000) + '\r\nNOOP\r\n');
    expect((await ctl.reply()).code).toBe(500);
    expect((await ctl.reply()).code).toBe(200);
    await expectServes(srv);
  });

  it('a line over 8 KiB without a newline gets 500 at once; the connection recovers at the newline', async () => {
    const ctl = await login();
    ctl.write('X'.repeat(64 * 1024));
    expect((await ctl.reply()).code).toBe(500);
    ctl.write('more bytes of the same line\r\nNOOP\r\n');
    expect((await ctl.reply()).code).toBe(200);
    await expectServes(srv);
  });

  it('a line of exactly the limit (8192 bytes) is still a line', async () => {
    const ctl = await login();
    const line = 'SIZE /' + 'a'.repeat(8192 - 'SIZE /'.length);
    expect(Buffer.byteLength(line)).toBe(8192);
    expect((await codeOf(ctl, line)).code).toBe(550);
  });

  it('a client that never sends a newline blocks no one, and is answered once it does', async () => {
    const silent = await login();
    silent.write('NOOP');
    await expectServes(srv);
    expect(silent.pendingLines).toBe(0);
    silent.write('\r\n');
    expect((await silent.reply()).code).toBe(200);
  });

  it('a client that connects and sends nothing blocks no one', async () => {
    const idle = await connect();
    await expectServes(srv);
    expect((await codeOf(idle, 'NOOP')).code).toBe(200);
  });

  it('a command split across many TCP writes is one command', async () => {
    const ctl = await login();
    for (const piece of ['S', 'IZ', 'E /1m', 'ib.b', 'in\r', '\n']) {
      ctl.write(piece);
      await new Promise((r) => setImmediate(r));
    }
    const r = await ctl.reply();
    expect(r.code).toBe(213);
    expect(r.text.trim()).toBe('1048576');
  });

  it('pipelined commands in one write are answered in order', async () => {
    const ctl = await connect();
    ctl.write('USER a\r\nPASS b\r\nTYPE I\r\nSIZE /hello.txt\r\nXYZZY\r\nPWD\r\n');
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await ctl.reply()).code);
    expect(codes).toEqual([331, 230, 200, 213, 502, 257]);
  });

  it('a bare LF ends a line too', async () => {
    const ctl = await connect();
    ctl.write('NOOP\nSYST\n');
    expect((await ctl.reply()).code).toBe(200);
    expect((await ctl.reply()).code).toBe(215);
  });

  it('invalid UTF-8 gets 501; NUL in a command gets 501; the session goes on', async () => {
    const ctl = await login();
    ctl.write(Buffer.from([0x53, 0x49, 0x5a, 0x45, 0x20, 0xc3, 0x28, 0xff, 0xfe, 0x0d, 0x0a]));
    expect((await ctl.reply()).code).toBe(501);
    ctl.write(Buffer.from('SIZE /hello.txt\0x\r\n'));
    expect((await ctl.reply()).code).toBe(501);
    expect((await codeOf(ctl, 'SIZE /hello.txt')).code).toBe(213);
  });

  it('Telnet IP/DM before a command is stripped (RFC 959 4.1.3)', async () => {
    const ctl = await login();
    ctl.write(Buffer.concat([Buffer.from([0xff, 0xf4, 0xff, 0xf2]), Buffer.from('NOOP\r\n')]));
    expect((await ctl.reply()).code).toBe(200);
  });

  it('a client sending 1 MiB of random garbage gets replies or is closed, and no one else notices', async () => {
    const bystander = await login();
    const noisy = await FtpControl.open(srv.host, srv.port);
    opened.push(noisy);
    const junk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < junk.length; i++) junk[i] = (i * 2654435761) >>> 24;
    noisy.write(junk);
    // The noisy client never reads its replies: the server may close it (output cap) or keep it.
    const got = await retrieve(bystander, 'EPSV', srv.files.mib5.path);
    expect(got.final?.code).toBe(226);
    expect(got.sha256).toBe(srv.files.mib5.sha256);
    noisy.destroy();
    await expectServes(srv);
  });

  it('many clients that connect and vanish at once (with and without RST) harm no one', async () => {
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const socket = net.connect({ host: srv.host, port: srv.port });
        socket.on('error', () => {});
        await withTimeout(new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)), 5000, 'connect');
        const closed = new Promise((resolve) => socket.once('close', resolve));
        if (i % 3 === 0) socket.resetAndDestroy();
        else if (i % 3 === 1) {
          // Half-close after pipelined commands; reading (resume) is what notices the server's close.
          socket.end('USER x\r\nPASS y\r\nPASV\r\n');
          socket.resume();
        } else socket.destroy();
        await withTimeout(closed, 10_000, 'a vanished client socket to close');
      }),
    );
    await expectServes(srv);
  });

  it.each([
    ['with QUIT', 'USER anonymous\r\nPASS x\r\nTYPE I\r\nPWD\r\nQUIT\r\n', [220, 331, 230, 200, 257, 221]],
    ['without QUIT', 'USER anonymous\r\nPASS x\r\nNOOP\r\nEPSV\r\n', [220, 331, 230, 200, 229]],
  ])('a client that half-closes after pipelined commands (%s) gets every reply, then the server closes', async (_, sent, codes) => {
    const socket = net.connect({ host: srv.host, port: srv.port });
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {});
    const closed = new Promise((resolve) => socket.once('close', resolve));
    await withTimeout(new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject)), 5000, 'connect');
    socket.end(sent);
    await withTimeout(closed, 10_000, 'the server to close after answering');
    const lines = Buffer.concat(chunks).toString('latin1').split('\r\n').filter((l) => /^\d{3} /.test(l));
    expect(lines.map((l) => Number(l.slice(0, 3))), lines.join(' / ')).toEqual(codes);
  });

  it('a command pipelined behind a RETR that cannot open is answered after its 550', async () => {
    const ctl = await login();
    const channel = await DataChannel.open(ctl, 'EPSV');
    ctl.send('RETR no-such-file.bin');
    ctl.send('NOOP');
    const first = await ctl.reply();
    const second = await ctl.reply();
    expect([first.code, second.code], `${first.lines.join(' / ')} | ${second.lines.join(' / ')}`).toEqual([550, 200]);
    channel.close();
  });

  it('QUIT gets 221 and the server closes the connection', async () => {
    const ctl = await login();
    expect((await codeOf(ctl, 'QUIT')).code).toBe(221);
    await ctl.waitClosed();
  });

  // Lines still arriving behind QUIT are never read: the close is then a
  // reset, which drops whatever the server has not sent yet, so the 221 must
  // have left before it.
  it.skipIf(missing('python3'))('QUIT with a flood of lines behind it still gets its 221 before the close', async () => {
    const r = await python(floodScript, [srv.host, String(srv.port), 'QUIT', 'NOOP']);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.toString().split('\n')[0], describeRun(r)).toMatch(/^221 /);
    await expectServes(srv);
  });

  it.skipIf(missing('python3'))('a flood of lines behind a running command gets its 421 before the close, with the flood unread', async () => {
    // The RETR runs until its data connection comes, which it never does
    // here: the flood (15 MB of a command that may not run during a
    // transfer) waits behind it. At 64 waiting lines the engine stops
    // reading the socket, but one 16 KiB read already holds some 3,000 of
    // these lines, past the 1,024 that close with 421.
    const r = await python(floodScript, [srv.host, String(srv.port), `RETR ${srv.files.mib1.path}`, 'PWD', 'EPSV']);
    expect(r.code, describeRun(r)).toBe(0);
    const lines = r.stdout.toString().trim().split('\n');
    expect(lines.slice(-3), lines.slice(0, 5).join(' / ')).toContain('421 Too many commands waiting; closing control connection.');
    await expectServes(srv);
  });
});

describe('during a transfer, and clients that leave mid-transfer', () => {
  /** A logged-in client whose 64 MiB download has started and is stalled by not reading. */
  async function stalledDownload(): Promise<{ ctl: FtpControl; channel: DataChannel }> {
    const ctl = await login();
    return { ctl, channel: await stalled(ctl, srv.fixture.big.path) };
  }

  it('STAT and NOOP answer at once; other commands wait for the transfer to end', async () => {
    const { ctl, channel } = await stalledDownload();
    const stat = await ctl.cmd('STAT');
    expect(stat.code).toBe(211);
    expect(stat.lines.join('\n')).toMatch(/transfer in progress/i);
    // SIZE must wait: the NOOP sent after it is answered first.
    ctl.send('SIZE /hello.txt');
    ctl.send('NOOP');
    expect((await ctl.reply()).code).toBe(200);
    ctl.send('ABOR');
    const codes = [(await ctl.reply()).code, (await ctl.reply()).code, (await ctl.reply()).code];
    expect(codes).toEqual([426, 226, 213]);
    channel.close();
  });

  it('the client drops both connections mid-transfer: others are served', async () => {
    const { ctl, channel } = await stalledDownload();
    const bystander = retrieve(await login(), 'EPSV', srv.files.mib5.path);
    channel.reset();
    ctl.socket.resetAndDestroy();
    const got = await bystander;
    expect(got.final?.code).toBe(226);
    expect(got.sha256).toBe(srv.files.mib5.sha256);
    await expectServes(srv);
  });

  it('the client drops the data connection only: 426 on the control connection, which goes on', async () => {
    const { ctl, channel } = await stalledDownload();
    channel.reset();
    const r = await ctl.reply();
    expect(r.code, r.lines.join(' / ')).toBe(426);
    expect((await codeOf(ctl, 'NOOP')).code).toBe(200);
    const got = await retrieve(ctl, 'EPSV', srv.files.mib1.path);
    expect(got.sha256).toBe(srv.files.mib1.sha256);
  });

  it('the client closes the control connection only: the server ends the data connection', async () => {
    const { ctl, channel } = await stalledDownload();
    ctl.destroy();
    const socket = await channel.connected;
    socket.resume();
    // The transfer is aborted with its session: the data connection ends short of 64 MiB.
    const result = await channel.result(15_000);
    expect(result.bytes).toBeLessThan(srv.fixture.big.size);
    await expectServes(srv);
  });

  it('ABOR mid-transfer: 426 for the transfer, then 226 for ABOR, and the session goes on', async () => {
    const { ctl, channel } = await stalledDownload();
    ctl.send('ABOR');
    const first = await ctl.reply();
    const second = await ctl.reply();
    expect([first.code, second.code]).toEqual([426, 226]);
    channel.close();
    expect((await codeOf(ctl, 'NOOP')).code).toBe(200);
    const got = await retrieve(ctl, 'PASV', srv.files.mib1.path);
    expect(got.sha256).toBe(srv.files.mib1.sha256);
  });

  // ftplib's abort() sends ABOR with its last byte as TCP urgent data (the
  // Telnet "Synch"): the control connection keeps it in the stream
  // (SO_OOBINLINE, taken over from the listener), so the line still ends.
  it.skipIf(missing('python3'))("python ftplib's abort() (ABOR with urgent data) mid-transfer is answered, and the session goes on", async () => {
    const script = `
import ftplib, sys
ftp = ftplib.FTP(timeout=10)
ftp.connect(sys.argv[1], int(sys.argv[2]))
ftp.login()
ftp.voidcmd('TYPE I')
conn = ftp.transfercmd('RETR ${srv.fixture.big.path}')
got = conn.recv(65536)
print('abort', ftp.abort()[:3])
print('abor', ftp.voidresp()[:3])
conn.close()
print('noop', ftp.voidcmd('NOOP')[:3])
ftp.quit()
`;
    const r = await python(script, [srv.host, String(srv.port)]);
    expect(r.code, describeRun(r)).toBe(0);
    const out = r.stdout.toString();
    // abort() returns the transfer's 426; the ABOR's own 226 follows.
    expect(out).toMatch(/^abort 426$/m);
    expect(out).toMatch(/^abor 226$/m);
    expect(out).toMatch(/^noop 200$/m);
  });

  // RFC 959 4.1.1 QUIT: "If file transfer is in progress, the connection will
  // remain open for result response and the server will then close it."
  it('QUIT mid-transfer lets the transfer finish: all of it, 226, then 221 and the close', async () => {
    const { ctl, channel } = await stalledDownload();
    try {
      ctl.send('QUIT');
      (await channel.connected).resume();
      const result = await channel.result(30_000);
      expect(result.bytes).toBe(srv.fixture.big.size);
      expect((await ctl.reply(30_000)).code).toBe(226);
      expect((await ctl.reply()).code).toBe(221);
      await ctl.waitClosed();
    } finally {
      channel.close();
    }
  });

  it('ABOR after QUIT mid-transfer: 426, 226, then 221 and the close', async () => {
    const { ctl, channel } = await stalledDownload();
    try {
      ctl.send('QUIT');
      ctl.send('ABOR');
      const codes = [(await ctl.reply()).code, (await ctl.reply()).code, (await ctl.reply()).code];
      expect(codes).toEqual([426, 226, 221]);
      await ctl.waitClosed();
    } finally {
      channel.close();
    }
  });

  it('the server still serves after all of the above', async () => {
    await expectServes(srv);
    await expectServes(srv, 'EPRT');
  });
});
