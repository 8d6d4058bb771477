// The shared download suite (hono's runTest shape): the same cases run over
// {sendfile, readwrite} × {EPSV, PASV, PORT, EPRT} × {IPv4, IPv6}. Each
// matrix-*.test.ts file picks a copy mode and an address family, so each file
// has one server; the data-connection modes are a describe.each inside.
//
// PASV and PORT carry IPv4 addresses only (RFC 959); on an IPv6 control
// connection the server must refuse them with 522 (RFC 2428 2) and EPSV must
// still work there.
import { describe, expect, it } from 'vitest';
import { missing } from '../../helpers/requires.js';
import {
  type DataMode,
  DataChannel,
  dataModes,
  curl,
  describeRun,
  FtpControl,
  retrieve,
  sha256,
} from './clients.js';
import { type FixtureFile, useServer } from './server.js';

export type CopyMode = 'sendfile' | 'readwrite';
export type Family = 4 | 6;

const loopback: Record<Family, string> = { 4: '127.0.0.1', 6: '::1' };

/** Whether a data-connection mode exists on a control connection of this family. */
export function modeWorks(mode: DataMode, family: Family): boolean {
  return family === 4 || mode === 'EPSV' || mode === 'EPRT';
}

/** curl flags selecting exactly one data-connection command, and the command its verbose log must show. */
function curlMode(mode: DataMode): { flags: string[]; sent: string; notSent: string[] } {
  switch (mode) {
    case 'EPSV':
      return { flags: [], sent: 'EPSV', notSent: ['PASV', 'PORT', 'EPRT'] };
    case 'PASV':
      // --no-ftp-skip-pasv-ip: connect to the address in the 227 reply, so that the reply is checked too.
      return { flags: ['--disable-epsv', '--no-ftp-skip-pasv-ip'], sent: 'PASV', notSent: ['EPSV', 'PORT', 'EPRT'] };
    case 'PORT':
      return { flags: ['-P', '-', '--disable-eprt'], sent: 'PORT', notSent: ['EPSV', 'PASV', 'EPRT'] };
    case 'EPRT':
      return { flags: ['-P', '-'], sent: 'EPRT', notSent: ['EPSV', 'PASV', 'PORT'] };
  }
}

/** Commands curl sent, from its -v log ('> RETR 1mib.bin'). */
function sentVerbs(stderr: string): string[] {
  return [...stderr.matchAll(/^> ([A-Z]+)/gm)].map((m) => m[1] ?? '');
}

/**
 * The suite for one copy mode and one client address family. With `bind`, the
 * server listens there (e.g. '::', the CLI's default, where IPv4 clients
 * arrive as IPv4-mapped addresses) while clients still use the loopback of
 * their family.
 */
export function downloadSuite(copy: CopyMode, family: Family, enabled = true, bind?: string): void {
  const host = loopback[family];
  const title = `downloads over IPv${family} (${host}${bind === undefined ? '' : `, server on ${bind}`}) with --copy ${copy}`;
  describe.skipIf(!enabled)(title, () => {
    // A small block size makes every transfer take many loop turns.
    const srv = useServer({ copy, blockSize: 64 * 1024 }, host, bind === undefined ? {} : { bind });

    const expectFile = async (ctl: FtpControl, mode: DataMode, file: FixtureFile) => {
      const got = await retrieve(ctl, mode, file.path);
      expect(got.prelim.code, got.prelim.lines.join(' / ')).toBe(150);
      expect(got.final?.code, got.final?.lines.join(' / ')).toBe(226);
      expect(got.error).toBeUndefined();
      expect(got.bytes).toBe(file.size);
      expect(got.sha256).toBe(file.sha256);
    };

    describe.each(dataModes)('%s', (mode) => {
      if (!modeWorks(mode, family)) {
        it(`${mode} is refused with 522 on IPv6, and EPSV still works after it`, async () => {
          const ctl = await FtpControl.login(srv.host, srv.port);
          try {
            const line = mode === 'PASV' ? 'PASV' : 'PORT 127,0,0,1,200,10';
            const r = await ctl.cmd(line);
            expect(r.code, r.lines.join(' / ')).toBe(522);
            await expectFile(ctl, 'EPSV', srv.files.hello);
          } finally {
            ctl.destroy();
          }
        });
        return;
      }

      it.each([
        ['an empty file', 'empty'],
        ['a small text file', 'hello'],
        ['1 MiB of random bytes', 'mib1'],
        ['5 MiB of random bytes', 'mib5'],
        ['a file with a space in its name', 'spaced'],
        ['a file two directories down', 'nested'],
      ] as const)('RETR of %s is byte-identical', async (_what, key) => {
        const ctl = await FtpControl.login(srv.host, srv.port);
        try {
          await expectFile(ctl, mode, srv.files[key]);
        } finally {
          ctl.destroy();
        }
      });

      it.each([1, 4095, 65536, 1_000_000, 5 * 1024 * 1024 - 1, 5 * 1024 * 1024])(
        'REST %i then RETR sends the rest of the file from that offset',
        async (offset) => {
          const file = srv.files.mib5;
          const ctl = await FtpControl.login(srv.host, srv.port);
          try {
            const got = await retrieve(ctl, mode, file.path, { rest: offset });
            expect(got.prelim.code, got.prelim.lines.join(' / ')).toBe(150);
            expect(got.final?.code, got.final?.lines.join(' / ')).toBe(226);
            expect(got.bytes).toBe(file.size - offset);
            expect(got.sha256).toBe(sha256(file.data.subarray(offset)));
          } finally {
            ctl.destroy();
          }
        },
      );

      it('the REST offset applies to one RETR only', async () => {
        const file = srv.files.mib1;
        const ctl = await FtpControl.login(srv.host, srv.port);
        try {
          const tail = await retrieve(ctl, mode, file.path, { rest: 1000 });
          expect(tail.bytes).toBe(file.size - 1000);
          await expectFile(ctl, mode, file);
        } finally {
          ctl.destroy();
        }
      });

      it('serves several downloads one after another on one control connection', async () => {
        const ctl = await FtpControl.login(srv.host, srv.port);
        try {
          for (const file of [srv.files.mib1, srv.files.hello, srv.files.empty, srv.files.mib5]) {
            await expectFile(ctl, mode, file);
          }
          await ctl.expect('QUIT', 221);
          await ctl.waitClosed();
        } finally {
          ctl.destroy();
        }
      });

      // The worker sends a download's 226 itself (its epilogue), in the loop
      // turn that sends a small file over a connected data connection: a NOOP
      // sent right behind the RETR is answered after it. (A NOOP may run beside
      // a longer transfer, or one still connecting in active mode: either order
      // is right then.)
      it.runIf(mode === 'EPSV' || mode === 'PASV')('a small RETR and a NOOP in one write are answered 150, 226, 200 in that order', async () => {
        const file = srv.files.hello;
        const ctl = await FtpControl.login(srv.host, srv.port);
        try {
          const channel = await DataChannel.open(ctl, mode);
          ctl.write(`RETR ${file.path}\r\nNOOP\r\n`);
          const codes: number[] = [];
          for (let i = 0; i < 3; i++) codes.push((await ctl.reply()).code);
          expect(codes).toEqual([150, 226, 200]);
          const got = await channel.result(10_000);
          channel.close();
          expect(got.bytes).toBe(file.size);
          expect(got.sha256).toBe(file.sha256);
        } finally {
          ctl.destroy();
        }
      });

      it('answers 550 to RETR of a missing file and then serves the next RETR', async () => {
        const ctl = await FtpControl.login(srv.host, srv.port);
        try {
          const missing = await retrieve(ctl, mode, '/no-such-file.bin');
          expect(missing.prelim.code, missing.prelim.lines.join(' / ')).toBe(550);
          await expectFile(ctl, mode, srv.files.mib1);
        } finally {
          ctl.destroy();
        }
      });

      it('answers 550 to RETR through a symlink that leads out of the root', async () => {
        const ctl = await FtpControl.login(srv.host, srv.port);
        try {
          const out = await retrieve(ctl, mode, '/escape.txt', { keep: true });
          expect(out.prelim.code, out.prelim.lines.join(' / ')).toBe(550);
          expect(out.bytes).toBe(0);
          await expectFile(ctl, mode, srv.files.hello);
        } finally {
          ctl.destroy();
        }
      });

      it.skipIf(missing('curl'))('curl downloads 5 MiB byte-identical with exactly this data command', async () => {
        const m = curlMode(mode);
        const r = await curl(['-v', '-g', ...m.flags, srv.url(srv.files.mib5.path)]);
        expect(r.code, describeRun(r)).toBe(0);
        expect(r.stdout.length).toBe(srv.files.mib5.size);
        expect(sha256(r.stdout)).toBe(srv.files.mib5.sha256);
        const verbs = sentVerbs(r.stderr);
        expect(verbs).toContain(m.sent);
        for (const other of m.notSent) expect(verbs).not.toContain(other);
      });

      it.skipIf(missing('curl'))('curl resumes with -C (REST) byte-identical', async () => {
        const offset = 777_777;
        const m = curlMode(mode);
        const r = await curl(['-g', ...m.flags, '-C', String(offset), srv.url(srv.files.mib1.path)]);
        expect(r.code, describeRun(r)).toBe(0);
        expect(sha256(r.stdout)).toBe(sha256(srv.files.mib1.data.subarray(offset)));
      });
    });
  });
}
