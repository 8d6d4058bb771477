// Reply shapes a tester chooses (docs/middlebox.md): the PASV address per
// client network (--pasv-address-map), a 227 without parentheses, another 229
// delimiter, and a reply written in two TCP segments. The announced addresses
// below are never connected to: only the reply text is checked.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { DataChannel, FtpControl, withTimeout } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

describe('--pasv-address-map', () => {
  const t = useServer({ pasvAddressMap: '127.0.0.0/8=10.1.1.1,127.0.0.2/32=10.9.8.7,192.168.0.0/16=10.5.5.5', pasvAddress: '10.3.3.3' });

  it('announces the address of the longest prefix holding the client', async () => {
    for (const [from, announced] of [['127.0.0.1', '10,1,1,1'], ['127.0.0.2', '10,9,8,7']] as const) {
      const ctl = await FtpControl.login(t.host, t.port, 5_000, from);
      try {
        const r = await ctl.cmd('PASV');
        expect(r.code).toBe(227);
        expect(r.text, `from ${from}`).toMatch(new RegExp(`\\(${announced},\\d+,\\d+\\)`));
      } finally {
        ctl.destroy();
      }
    }
  });
});

describe('--pasv-address-map with no entry for the client', () => {
  const t = useServer({ pasvAddressMap: [{ cidr: '10.0.0.0/8', address: '10.2.2.2' }], pasvAddress: '10.3.3.3' });

  it('falls back to --pasv-address', async () => {
    const ctl = await FtpControl.login(t.host, t.port);
    try {
      expect((await ctl.cmd('PASV')).text).toMatch(/\(10,3,3,3,\d+,\d+\)/);
    } finally {
      ctl.destroy();
    }
  });
});

describe('227 without parentheses, 229 with another delimiter', () => {
  const t = useServer({ pasvReplyStyle: 'bare', epsvDelimiter: '!' });

  it('writes them so, and clients that scan for the numbers still transfer', async () => {
    const ctl = await FtpControl.login(t.host, t.port);
    try {
      const pasv = await DataChannel.open(ctl, 'PASV');
      expect(pasv.reply.lines[0]).toMatch(/^227 Entering Passive Mode 127,0,0,1,\d+,\d+$/);
      await ctl.expect(`RETR ${t.files.hello.path}`, 150);
      expect((await ctl.reply()).code).toBe(226);
      expect((await pasv.result()).sha256).toBe(t.files.hello.sha256);
      const epsv = await DataChannel.open(ctl, 'EPSV');
      expect(epsv.reply.lines[0]).toMatch(/^229 Entering Extended Passive Mode \(!!!\d+!\)$/);
      await ctl.expect(`RETR ${t.files.hello.path}`, 150);
      expect((await ctl.reply()).code).toBe(226);
      expect((await epsv.result()).sha256).toBe(t.files.hello.sha256);
    } finally {
      ctl.destroy();
    }
  });
});

/** The next chunk the socket delivers (its reads follow the segments, with the pause between them). */
function nextChunk(socket: net.Socket): Promise<Buffer> {
  return withTimeout(new Promise<Buffer>((resolve) => socket.once('data', resolve)), 10_000, 'a reply segment');
}

describe('--split-reply-verbs', () => {
  const pauseMs = 300;
  const t = useServer({ splitReplyVerbs: 'PASV,EPSV,NOOP', splitReplyAt: 10, splitReplyPauseMs: pauseMs });

  it('writes those replies in two segments split at the byte asked, the rest after the pause', async () => {
    const ctl = await FtpControl.login(t.host, t.port);
    // From here the test reads the socket itself: FtpControl's line parser would join the segments.
    const socket = ctl.socket;
    socket.removeAllListeners('data');
    try {
      for (const [verb, head] of [['NOOP', '200 NOOP o'], ['EPSV', '229 Enteri'], ['PASV', '227 Enteri']] as const) {
        const first = nextChunk(socket);
        socket.write(`${verb}\r\n`);
        expect((await first).toString('latin1'), verb).toBe(head);
        const rest = (await nextChunk(socket)).toString('latin1');
        expect(rest.endsWith('\r\n'), `${verb}: ${JSON.stringify(rest)}`).toBe(true);
        expect(rest.slice(0, -2)).not.toContain('\r\n');
      }
      // Replies of other verbs are whole.
      const whole = nextChunk(socket);
      socket.write('SYST\r\n');
      expect((await whole).toString('latin1')).toMatch(/^215 .*\r\n$/);
    } finally {
      ctl.destroy();
    }
  });
});
