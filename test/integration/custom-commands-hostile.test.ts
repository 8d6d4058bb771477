// What a custom command (README, "Custom commands") may pass the engine's
// actions, as untyped JavaScript would: a name no table knows, a path with a
// NUL, numbers the wire cannot carry. Each is refused (the command gets its
// 451), nothing is done in its place, and the session and the server go on.
import { describe, expect, it } from 'vitest';
import type { CommandOverrides } from '../../src/index.js';
import { Code, reply } from '../../src/index.js';
import { FtpControl } from './helpers/clients.js';
import { inProcess, useServer } from './helpers/server.js';

/** The argument's "%00" as a NUL: no client can send one (the parser refuses it). */
const withNul = (s: string) => s.replaceAll('%00', '\0');

const hostile: CommandOverrides = {
  // XOP <op> <path>: ctx.engine.fileOp with whatever op name the client says.
  XOP: {
    auth: true,
    arg: 'required',
    help: 'XOP <op> <path>',
    handler: async (ctx, arg) => {
      const [op = '', path = ''] = arg.split(' ');
      const r = await ctx.engine.fileOp(ctx.session.sid, op as 'stat', withNul(path));
      return reply(Code.CommandOk, `error ${r.error}`);
    },
  },
  // XSEND <what>: a transfer with a bad write mode, path or number.
  XSEND: {
    auth: true,
    arg: 'required',
    help: 'XSEND <what>',
    handler: async (ctx, arg) => {
      const sid = ctx.session.sid;
      const e = ctx.engine;
      if (arg === 'mode') await e.recvFile(sid, 'mode.bin', 0, 'appendd' as 'append');
      else if (arg === 'nul') await e.sendFile(sid, withNul('hello.txt%00.bak'), 0);
      else if (arg === 'offset') await e.sendFile(sid, 'hello.txt', -1);
      else if (arg === 'sid') e.reply(Number.NaN, '200 to no one.\r\n');
      else if (arg === 'detached') {
        // A Buffer whose memory was handed to another thread: empty now, and nothing to read.
        const data = Buffer.alloc(1024, 1);
        structuredClone(data.buffer, { transfer: [data.buffer] });
        const r = await e.sendBuffer(sid, data);
        return reply(Code.CommandOk, `sent ${r.bytes}`);
      }
      return reply(Code.CommandOk, 'done');
    },
  },
};

describe('a custom command passing the engine what untyped JavaScript may', () => {
  // An object table stays in this process (--processes 1).
  const srv = useServer({ ...inProcess, writable: true, commands: hostile });

  it('an unknown name, a NUL in a path, a bad number: 451 each, nothing done instead, the session goes on', async () => {
    const ctl = await FtpControl.connect(srv.host, srv.port);
    const other = await FtpControl.connect(srv.host, srv.port);
    try {
      for (const c of [ctl, other]) {
        await c.expect('USER anonymous', 331);
        await c.expect('PASS x', 230);
      }
      await ctl.expect('MKD made', 257);
      const size = `SIZE ${srv.files.hello.path}`;
      await ctl.expect(size, 213);
      // 'delete' is no file operation: it must not become op 0, which makes
      // the path the session's directory.
      await ctl.expect('XOP delete made', 451);
      await ctl.expect(size, 213);
      // A NUL must not cut the path short: "made%00.bak" is not "made".
      await ctl.expect('XOP rmdir made%00.bak', 451);
      await ctl.expect('XOP stat made', 200);
      expect((await ctl.cmd('XOP stat made')).lines).toEqual(['200 error 0']);
      for (const what of ['mode', 'nul', 'offset', 'sid']) await ctl.expect(`XSEND ${what}`, 451);
      // A detached Buffer is an empty one: no data connection here, nothing sent.
      expect((await ctl.cmd('XSEND detached')).lines).toEqual(['200 sent 0']);
      await ctl.expect('NOOP', 200);
      await other.expect(size, 213);
      await ctl.expect('RMD made', 250);
    } finally {
      ctl.destroy();
      other.destroy();
    }
  });
});
