// A hostile client of the engine's own TLS 1.3 record layer (docs/tls.md,
// "After the handshake"), over the real server: node:tls does the handshake,
// then the test writes and reads the records itself (helpers/tls13-client.ts).
import { describe, expect, it } from 'vitest';
import { eventually } from './helpers/clients.js';
import { useFtpsServer } from './helpers/ftps.js';
import type { TestServer } from './helpers/server.js';
import { connectRecordClient, type RecordClient, readRecords } from './helpers/tls13-client.js';

const kHandshake = 22;
const kApplicationData = 23;

/** Event-loop turns of all workers so far. */
function iterations(stats: { loops: Array<{ iterations: number }> }): number {
  return stats.loops.reduce((sum, l) => sum + l.iterations, 0);
}

/** `n` HELPs in records of 2,000 lines, and the server quiet after them (no line read for 300 ms). */
async function flood(srv: TestServer, c: RecordClient, n: number): Promise<void> {
  const lines = Buffer.from('HELP\r\n'.repeat(n));
  for (let at = 0; at < lines.length; at += 12_000) c.socket.write(c.write.seal(kApplicationData, lines.subarray(at, at + 12_000)));
  let seen = -1;
  const quiet = await eventually(async () => {
    const now = (await srv.server.stats()).loops.reduce((sum, l) => sum + l.events, 0);
    const same = now === seen;
    seen = now;
    return same;
  }, 15_000, 300);
  expect(quiet).toBe(true);
}

describe('a switched TLS 1.3 control connection against a client that asks for KeyUpdates and never reads', () => {
  // Room for the replies the client leaves unread, so the server keeps the session.
  const srv = useFtpsServer({ maxOutput: 32 * 1024 * 1024 });

  // OpenSSL keeps a connection whose client sent a KeyUpdate before the switch:
  // the same client against OpenSSL's record layer.
  it.each([
    ['switched', false],
    ['kept by OpenSSL (an early KeyUpdate)', true],
  ] as const)('%s: our KeyUpdate blocked behind unread replies stops the reads without spinning the worker; all arrives once the client reads', async (_, early) => {
    const before = (await srv.server.stats()).tls.controlSwitched;
    const c = await connectRecordClient(srv.host, srv.port);
    try {
      let text = '';
      let keyUpdates = 0;
      let afterKeyUpdate = '';
      readRecords(c, (type, content) => {
        if (type === kHandshake) {
          expect([...content]).toEqual([24, 0, 0, 1, 0]);
          keyUpdates++;
        } else if (type === kApplicationData) {
          if (keyUpdates > 0) afterKeyUpdate += content.toString('latin1');
          text += content.toString('latin1');
        }
      });
      if (early) {
        c.socket.write(c.write.seal(kHandshake, Buffer.from([24, 0, 0, 1, 0])));
        c.write.update();
      }
      // A first command and its reply: the server switches to its own records (unless kept).
      c.socket.write(c.write.seal(kApplicationData, Buffer.from('NOOP\r\n')));
      expect(await eventually(() => /^200 /m.test(text), 5_000)).toBe(true);
      if (!early) expect(await eventually(async () => (await srv.server.stats()).tls.controlSwitched > before, 5_000)).toBe(true);
      c.socket.pause();
      // Replies enough to fill both kernels' buffers (about 360 bytes each),
      // then more once the client's window is shut: the server's socket takes
      // no byte more until the client reads.
      const helps = [16_000, 4_000];
      for (const n of helps) await flood(srv, c, n);
      // KeyUpdate, update_requested: the server's goes behind the unread
      // replies, and the NOOP after it waits in the socket, readable.
      c.socket.write(c.write.seal(kHandshake, Buffer.from([24, 0, 0, 1, 1])));
      c.write.update();
      c.socket.write(c.write.seal(kApplicationData, Buffer.from('NOOP\r\n')));
      await new Promise((r) => setTimeout(r, 200));
      const start = iterations(await srv.server.stats());
      await new Promise((r) => setTimeout(r, 1000));
      const turns = iterations(await srv.server.stats()) - start;
      // A worker waiting for the socket sleeps; one that spins turns tens of thousands of times a second.
      expect(turns).toBeLessThan(200);

      // The client reads: every HELP reply, the server's KeyUpdate, then the NOOP's 200 under the new keys.
      c.socket.resume();
      expect(await eventually(() => /^200 /m.test(afterKeyUpdate), 15_000), text.slice(-500)).toBe(true);
      expect(keyUpdates).toBe(1);
      expect(text.match(/^214 /gm)?.length).toBe(helps[0]! + helps[1]!);
      expect(text.match(/^200 /gm)?.length).toBe(2);
      expect((await srv.server.stats()).tls.controlSwitched - before).toBe(early ? 0 : 1);
    } finally {
      c.socket.destroy();
    }
  }, 30_000);
});

/** A tiny deterministic generator: the same cuts each run. */
function cuts(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return 1 + (x % 61);
  };
}

describe('a TLS 1.3 control connection that switches while commands stream in', () => {
  const srv = useFtpsServer();

  // The switch happens when the connection is quiet between two records; the
  // client's 300 commands arrive cut at odd places, with a KeyUpdate asking
  // for ours among them (OpenSSL's or ours, whichever side of the switch it
  // falls on): every command is read once, under the right key, and answered.
  it.each([1, 2, 3, 4, 5])('cuts of seed %i: 300 NOOPs and a KeyUpdate, every reply, one KeyUpdate back', async (seed) => {
    const c = await connectRecordClient(srv.host, srv.port);
    c.socket.setNoDelay(true);
    try {
      let text = '';
      let keyUpdates = 0;
      readRecords(c, (type, content) => {
        if (type === kHandshake) {
          expect([...content]).toEqual([24, 0, 0, 1, 0]);
          keyUpdates++;
        } else if (type === kApplicationData) {
          text += content.toString('latin1');
        }
      });
      const records: Buffer[] = [];
      for (let i = 0; i < 300; i++) {
        if (i === 40 * seed) {
          records.push(c.write.seal(kHandshake, Buffer.from([24, 0, 0, 1, 1])));
          c.write.update();
        }
        records.push(c.write.seal(kApplicationData, Buffer.from('NOOP\r\n')));
      }
      const bytes = Buffer.concat(records);
      const next = cuts(seed);
      for (let at = 0, n = 0; at < bytes.length; n++) {
        const size = next();
        c.socket.write(bytes.subarray(at, at + size));
        at += size;
        if (n % 3 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(await eventually(() => (text.match(/^200 /gm)?.length ?? 0) >= 300, 15_000), text.slice(-300)).toBe(true);
      expect(text.match(/^200 /gm)?.length).toBe(300);
      expect(keyUpdates).toBe(1);
    } finally {
      c.socket.destroy();
    }
  });
});

describe('a switched TLS 1.3 control connection: a line past the limit, and CCC with clear text in the same segment', () => {
  const srv = useFtpsServer();

  it('a 40,000-byte line over three records gets its 500, the next command its 200', async () => {
    const c = await connectRecordClient(srv.host, srv.port);
    try {
      let text = '';
      readRecords(c, (type, content) => {
        if (type === kApplicationData) text += content.toString('latin1');
      });
      const line = Buffer.from(`NOOP ${'A'.repeat(40_000)}\r\nNOOP\r\n`);
      for (let at = 0; at < line.length; at += 16_384) c.socket.write(c.write.seal(kApplicationData, line.subarray(at, at + 16_384)));
      expect(await eventually(() => /^200 /m.test(text), 10_000), text).toBe(true);
      expect(text.split('\r\n').filter((l) => l !== '').map((l) => l.slice(0, 4))).toEqual(['500 ', '200 ']);
    } finally {
      c.socket.destroy();
    }
  });

  it('CCC: our close_notify, then the client\'s and its next command in clear in one segment: the command is read in clear', async () => {
    const before = (await srv.server.stats()).tls.controlSwitched;
    const c = await connectRecordClient(srv.host, srv.port);
    try {
      let text = '';
      let closed = false;
      readRecords(c, (type, content) => {
        if (type === kApplicationData) text += content.toString('latin1');
        else if (type === 21 && content[1] === 0) closed = true;
      });
      c.socket.write(c.write.seal(kApplicationData, Buffer.from('USER anonymous\r\nPASS x\r\n')));
      expect(await eventually(() => /^230 /m.test(text), 5_000), text).toBe(true);
      expect((await srv.server.stats()).tls.controlSwitched - before).toBe(1);
      c.socket.write(c.write.seal(kApplicationData, Buffer.from('CCC\r\n')));
      expect(await eventually(() => closed, 5_000), text).toBe(true);
      expect(text).toMatch(/^200 CCC/m);
      // The rest comes in clear: readRecords is done with the socket.
      c.socket.removeAllListeners('data');
      let clear = '';
      c.socket.on('data', (d: Buffer) => (clear += d.toString('latin1')));
      c.socket.write(Buffer.concat([c.write.seal(21, Buffer.from([1, 0])), Buffer.from('NOOP\r\nPWD\r\n')]));
      expect(await eventually(() => /^257 /m.test(clear), 5_000), clear).toBe(true);
      expect(clear).toMatch(/^200 [^\r]*\r\n257 /);
    } finally {
      c.socket.destroy();
    }
  });
});
