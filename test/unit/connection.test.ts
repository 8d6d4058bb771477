import os from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { TransferError } from '../../src/engine/engine.js';
import { reply } from '../../src/protocol/replies.js';
import { harness, loggedIn } from './helpers/fake-engine.js';

describe('session greeting and closing', () => {
  it('greets with 220', async () => {
    const h = await harness();
    expect(h.engine.sent).toEqual(['220 muxftpd ready\r\n']);
  });

  it('answers QUIT with 221, closes, and ignores later lines', async () => {
    const h = await harness();
    h.send('QUIT', 'NOOP');
    expect(h.engine.sent).toEqual(['220 muxftpd ready\r\n', '221 Goodbye.\r\n']);
    expect(h.engine.actions).toEqual(['close']);
  });

  it('answers an over-long line with 500', async () => {
    const h = await harness();
    h.server.onLine(1, Buffer.from('XXXX'), true);
    expect(h.engine.sent[1]).toBe('500 Command line too long.\r\n');
  });

  it('answers Telnet-wrapped and invalid lines', async () => {
    const h = await harness();
    h.send(Buffer.from([0xff, 0xf4, 0xff, 0xf2, 0x4e, 0x4f, 0x4f, 0x50]), Buffer.from([0x55, 0x53, 0x45, 0x52, 0x20, 0xc3, 0x28]), 'NO\0OP');
    expect(h.codes()).toEqual([220, 200, 501, 501]);
  });

  it('sends nothing more once the engine reports the session closed', async () => {
    const h = await loggedIn();
    h.send('EPSV', 'RETR file.bin');
    await h.replies(2);
    h.server.onClosed(1, 'peerClosed');
    h.engine.finish({ bytes: 0, error: TransferError.Aborted });
    await h.settle();
    expect(h.engine.sent).toEqual(['229 Entering Extended Passive Mode (|||40000|)\r\n', '150 Opening ASCII mode data connection for file.bin.\r\n']);
    expect(h.server.sessions).toBe(0);
  });
});

describe('line ordering', () => {
  it('runs lines after an async command only once it has answered', async () => {
    const h = await loggedIn();
    h.send('SIZE file.bin', 'NOOP', 'PWD');
    expect(h.engine.sent).toEqual([]);
    await h.settle();
    expect(h.codes()).toEqual([213, 200, 257]);
  });

  it('pauses reading at 64 waiting lines, resumes once 16 wait, and answers every line in order', async () => {
    const h = await loggedIn();
    h.send('SIZE file.bin', ...Array.from({ length: 100 }, () => 'NOOP'));
    expect(h.engine.sent).toEqual([]);
    expect(h.engine.actions).toEqual(['pauseInput']);
    await h.settle();
    expect(h.codes()).toEqual([213, ...Array.from({ length: 100 }, () => 200)]);
    expect(h.engine.actions).toEqual(['pauseInput', 'resumeInput']);
  });

  it('closes with 421 when lines read before the pause took effect pass the cap', async () => {
    const h = await loggedIn();
    h.send('SIZE file.bin', ...Array.from({ length: 1025 }, () => 'NOOP'));
    expect(h.engine.sent).toEqual(['421 Too many commands waiting; closing control connection.\r\n']);
    expect(h.engine.actions).toEqual(['pauseInput', 'close']);
    await h.settle();
    expect(h.engine.sent.length).toBe(1);
    expect(h.engine.actions).toEqual(['pauseInput', 'close']);
  });

  it('keeps a session whose commands are still running or waiting out of --idle-timeout', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'Date'] });
    try {
      let release = (): void => {};
      const hang = new Promise<void>((resolve) => (release = resolve));
      const HANG = { auth: true, arg: 'none', help: 'HANG', handler: () => hang.then(() => reply(200, 'done')) } as const;
      const h = await loggedIn({ config: { idleTimeout: 1 }, commands: { HANG } });
      h.send('HANG', ...Array.from({ length: 70 }, () => 'NOOP'));
      expect(h.engine.actions).toEqual(['pauseInput']);
      vi.advanceTimersByTime(5000);
      expect(h.engine.sent).toEqual([]);
      release();
      await h.settle();
      expect(h.codes()).toEqual(Array.from({ length: 71 }, () => 200));
      // Answered: the idle clock runs again from the last sweep that saw the commands.
      vi.advanceTimersByTime(2000);
      expect(h.engine.sent.at(-1)).toBe('421 Timeout: no command for too long; closing control connection.\r\n');
      await h.server.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it('runs duringTransfer commands at once while a transfer runs, others after it', async () => {
    const h = await loggedIn();
    h.send('EPSV', 'RETR file.bin', 'PWD', 'NOOP', 'STAT');
    await h.replies(4);
    expect(h.engine.transferring).toBe(true);
    expect(h.codes()).toEqual([229, 150, 200, 211]);
    expect(h.engine.sent[3]).toContain(' Transfer in progress\r\n');
    h.engine.finish();
    await h.replies(6);
    expect(h.codes()).toEqual([229, 150, 200, 211, 226, 257]);
  });
});

describe('QUIT during a transfer', () => {
  it('waits for the transfer: its 226 first, then 221 and the close (RFC 959 4.1.1)', async () => {
    const h = await loggedIn();
    h.send('EPSV', 'RETR file.bin', 'QUIT');
    await h.replies(2);
    expect(h.engine.actions).not.toContain('close');
    h.engine.finish();
    await h.replies(4);
    expect(h.codes()).toEqual([229, 150, 226, 221]);
    expect(h.engine.actions.at(-1)).toBe('close');
  });
});

describe('data transfers', () => {
  it('refuses RETR without PASV/PORT with 425', async () => {
    const h = await loggedIn();
    h.send('RETR file.bin');
    expect(h.engine.sent).toEqual(['425 Use PORT or PASV first.\r\n']);
  });

  it('runs a passive RETR: 150, sendFile, 226; the data setup is used up', async () => {
    const h = await loggedIn();
    h.send('TYPE I', 'PASV', 'RETR file.bin', 'RETR file.bin');
    await h.replies(3);
    h.engine.finish({ bytes: 1000, error: TransferError.Ok });
    await h.replies(5);
    expect(h.engine.sent).toEqual([
      '200 Switching to Binary mode.\r\n',
      '227 Entering Passive Mode (127,0,0,1,156,64).\r\n',
      '150 Opening BINARY mode data connection for file.bin.\r\n',
      '226 Transfer complete.\r\n',
      '425 Use PORT or PASV first.\r\n',
    ]);
    expect(h.engine.actions).toEqual(['listenPassive', 'sendFile file.bin 0']);
  });

  it('uses REST for the next RETR only', async () => {
    const h = await loggedIn();
    h.send('REST 100', 'EPSV', 'RETR file.bin');
    await h.replies(3);
    h.engine.finish();
    h.send('EPSV', 'RETR file.bin');
    await h.replies(6);
    expect(h.engine.actions.filter((a) => a.startsWith('sendFile'))).toEqual(['sendFile file.bin 100', 'sendFile file.bin 0']);
    expect(h.codes()[0]).toBe(350);
  });

  it('refuses a bad REST with 501', async () => {
    const h = await loggedIn();
    h.send('REST -1', 'REST x');
    expect(h.codes()).toEqual([501, 501]);
  });

  it('answers ABOR during a transfer with 426 on the transfer, then 226, then runs what waited', async () => {
    const h = await loggedIn();
    h.send('EPSV', 'RETR file.bin', 'PWD', 'ABOR');
    await h.replies(5);
    expect(h.codes()).toEqual([229, 150, 426, 226, 257]);
    expect(h.engine.actions).toEqual(['listenPassive', 'sendFile file.bin 0', 'abort']);
  });

  it('queues an ABOR sent before the transfer started, and aborts after the transfer is queued', async () => {
    const h = await loggedIn();
    h.send('EPSV');
    await h.settle();
    h.send('RETR file.bin', 'ABOR');
    await h.replies(4);
    expect(h.codes()).toEqual([229, 150, 426, 226]);
    expect(h.engine.actions).toEqual(['listenPassive', 'sendFile file.bin 0', 'abort']);
  });

  it('answers ABOR without a transfer with 225 and drops a waiting listener', async () => {
    const h = await loggedIn();
    h.send('ABOR', 'EPSV', 'ABOR', 'RETR file.bin');
    await h.settle();
    expect(h.codes()).toEqual([225, 229, 225, 425]);
    expect(h.engine.actions).toEqual(['listenPassive', 'abort']);
  });

  it('maps transfer errors to replies', async () => {
    const cases: [number, number][] = [
      [TransferError.PeerClosed, 426],
      [TransferError.ConnectFailed, 425],
      [TransferError.NoDataConnection, 425],
      [TransferError.Timeout, 426],
      [-2, 550],
      [-5, 451],
    ];
    for (const [error, code] of cases) {
      const h = await loggedIn();
      h.send('EPSV', 'RETR file.bin');
      await h.replies(2);
      h.engine.finish({ bytes: 0, error });
      await h.replies(3);
      expect(h.codes().at(-1), `error ${error}`).toBe(code);
    }
  });

  it('replaces a passive setup with a new one, dropping the old listener first', async () => {
    const h = await loggedIn();
    h.send('EPSV', 'PASV');
    await h.settle();
    expect(h.engine.actions).toEqual(['listenPassive', 'abort', 'listenPassive']);
  });

  it('answers 425 when the passive listener fails', async () => {
    const h = await loggedIn();
    h.engine.passiveErrno = -98;
    h.send('PASV');
    await h.settle();
    expect(h.codes()).toEqual([425]);
  });

  it('logs a listener the client left behind at debug, and one the server could not open as a warning', async () => {
    const h = await loggedIn({ logLevel: 'debug' });
    h.engine.passiveErrno = -os.constants.errno.ECONNRESET;
    h.send('PASV');
    await h.settle();
    h.engine.passiveErrno = -os.constants.errno.EADDRINUSE;
    h.send('EPSV');
    await h.settle();
    // The worker sends nothing for a session that is gone.
    expect(h.codes()).toEqual([425]);
    const passive = h.errors
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .filter((l) => l.msg.includes('passive listener'));
    expect(passive).toEqual([
      { level: 20, time: expect.any(String), msg: `session 1: passive listener failed (errno ${os.constants.errno.ECONNRESET})` },
      { level: 40, time: expect.any(String), msg: `session 1: passive listener failed (errno ${os.constants.errno.EADDRINUSE})` },
    ]);
  });

  it('announces pasvAddress in PASV when configured', async () => {
    const h = await loggedIn({ config: { pasvAddress: '203.0.113.7' } });
    h.send('PASV');
    await h.settle();
    expect(h.engine.sent).toEqual(['227 Entering Passive Mode (203,0,113,7,156,64).\r\n']);
  });

  it('refuses PASV on an IPv6 control connection with 522, EPSV works', async () => {
    const v6 = { address: '::1', port: 2121 };
    const h = await loggedIn({ local: v6, peer: { address: '::1', port: 5000 } });
    h.send('PASV', 'EPSV', 'EPSV 1', 'EPSV 2');
    await h.settle();
    expect(h.codes()).toEqual([522, 229, 522, 229]);
  });

  it('refuses PORT, EPRT and PASV after EPSV ALL with 503', async () => {
    const h = await loggedIn();
    h.send('EPSV ALL', 'PASV', 'PORT 127,0,0,1,4,1', 'EPRT |1|127.0.0.1|1025|', 'EPSV');
    await h.settle();
    expect(h.codes()).toEqual([200, 503, 503, 503, 229]);
  });

  it('connects back for PORT and EPRT, to the client only and not to privileged ports', async () => {
    const h = await loggedIn({ peer: { address: '::ffff:127.0.0.1', port: 5000 }, local: { address: '::ffff:127.0.0.1', port: 2121 } });
    h.send('PORT 10,0,0,1,4,1', 'PORT 127,0,0,1,0,21', 'PORT 1,2', 'EPRT |2|::1|2000|', 'EPRT |3|x|1|', 'PORT 127,0,0,1,4,1', 'LIST');
    await h.replies(7);
    h.engine.finish();
    await h.replies(8);
    expect(h.codes()).toEqual([504, 504, 501, 522, 522, 200, 150, 226]);
    expect(h.engine.actions[0]).toBe('connectActive 127.0.0.1 1025');
    expect(h.engine.actions[1]).toMatch(/^sendBuffer .*file\.bin\r\n$/);
  });

  it('sends NLST names over the data connection', async () => {
    const h = await loggedIn();
    h.send('EPSV', 'NLST');
    await h.replies(2);
    expect(h.engine.actions[1]).toBe('sendBuffer file.bin\r\n');
  });
});

describe('draining', () => {
  const line = (h: Awaited<ReturnType<typeof harness>>, sid: number, text: string) => h.server.onLine(sid, Buffer.from(text), false);

  it('an idle session gets 421, then the close', async () => {
    const h = await loggedIn();
    await h.server.drain(0);
    expect(h.engine.sent).toEqual(['421 Server shutting down; closing control connection.\r\n']);
    expect(h.engine.actions).toEqual(['stopAccepting', 'close']);
  });

  it('a transfer still running at the deadline is aborted: 426 on its command, then 421', async () => {
    const h = await loggedIn();
    h.send('EPSV', 'RETR file.bin');
    await h.replies(2);
    await h.server.drain(0);
    expect(h.codes()).toEqual([229, 150, 426, 421]);
    expect(h.engine.actions.slice(-3)).toEqual(['stopAccepting', 'abort', 'close']);
  });

  it('a data command while draining gets 421 and its session closes; other commands are served', async () => {
    const h = await loggedIn();
    h.send('EPSV', 'RETR file.bin');
    await h.replies(2);
    const drained = h.server.drain(60_000);
    h.server.onOpen(2, { address: '127.0.0.1', port: 50001 }, { address: '127.0.0.1', port: 2121 }, false);
    for (const text of ['USER anonymous', 'PASS x', 'NOOP', 'PASV', 'NOOP']) line(h, 2, text);
    await h.replies(6);
    expect(h.codes().slice(2, 6)).toEqual([220, 331, 230, 200]);
    expect(h.engine.sent[6]).toBe('421 Server shutting down; no new transfers. Closing control connection.\r\n');
    h.engine.finish();
    await drained;
    expect(h.codes().slice(7)).toEqual([226, 421]);
    expect(h.engine.sent).toHaveLength(9);
  });
});
