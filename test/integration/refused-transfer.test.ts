// A transfer whose file does not open (RETR of a missing file, of a
// directory; STOR onto a FIFO) is answered 550 alone and leaves the data
// setup for the next transfer, as vsftpd and pyftpdlib do: the passive
// connection stays open, and in active mode a download connects only once
// its file is open. And an upload whose data connection never comes leaves
// the file it was to replace whole.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DataChannel, type DataMode, dataModes, FtpControl, freePort, sha256 } from './helpers/clients.js';
import { expectServes, useServer } from './helpers/server.js';

const srv = useServer({ writable: true });
const opened: FtpControl[] = [];

afterEach(() => {
  for (const c of opened.splice(0)) c.destroy();
});

// The engine, not a check in TypeScript, refuses this one: opened for writing
// with O_NONBLOCK and no reader, a FIFO fails with ENXIO.
beforeAll(() => {
  execFileSync('mkfifo', [path.join(srv.root, 'fifo')]);
});

async function login(): Promise<FtpControl> {
  const ctl = await FtpControl.login(srv.host, srv.port);
  opened.push(ctl);
  return ctl;
}

const activeModes: readonly DataMode[] = ['PORT', 'EPRT'];

describe.each(dataModes)('%s', (mode) => {
  it('RETR of a missing file and of a directory: 550, then RETR on the same data setup', async () => {
    const ctl = await login();
    const channel = await DataChannel.open(ctl, mode, { keep: true });
    try {
      const missing = await ctl.cmd('RETR /no-such-file.bin');
      expect(missing.code, missing.lines.join(' / ')).toBe(550);
      const directory = await ctl.cmd('RETR /sub');
      expect(directory.code, directory.lines.join(' / ')).toBe(550);
      // Long enough for a connect the server should not make, or a close it should not send.
      await sleep(200);
      if (activeModes.includes(mode)) expect(channel.current, 'active mode connected before a file opened').toBeUndefined();
      else expect(channel.current?.readableEnded, 'the passive connection was closed').toBe(false);

      const file = srv.files.mib1;
      const prelim = await ctl.cmd(`RETR ${file.path}`);
      expect(prelim.code, prelim.lines.join(' / ')).toBe(150);
      expect((await ctl.reply()).code).toBe(226);
      const got = await channel.result();
      expect(got.bytes).toBe(file.size);
      expect(got.sha256).toBe(file.sha256);

      // Spent by the transfer that used it: the next one needs a new setup.
      expect((await ctl.cmd(`RETR ${file.path}`)).code).toBe(425);
    } finally {
      channel.close();
    }
  });

  it('STOR onto a directory and onto a FIFO: 550, then STOR on the same data setup', async () => {
    const ctl = await login();
    const channel = await DataChannel.open(ctl, mode);
    try {
      // '/sub' is refused in TypeScript before the data setup is touched; '/fifo' by the engine's open.
      for (const target of ['/sub', '/fifo']) {
        const refused = await ctl.cmd(`STOR ${target}`);
        expect(refused.code, refused.lines.join(' / ')).toBe(550);
      }
      const name = `/kept-${mode}.bin`;
      const body = Buffer.from(`stored on the setup a refused STOR left (${mode})\n`);
      const prelim = await ctl.cmd(`STOR ${name}`);
      expect(prelim.code, prelim.lines.join(' / ')).toBe(150);
      const socket = await channel.connected;
      socket.end(body);
      expect((await ctl.reply()).code).toBe(226);
      const back = await DataChannel.open(ctl, mode, { keep: true });
      try {
        expect((await ctl.cmd(`RETR ${name}`)).code).toBe(150);
        expect((await ctl.reply()).code).toBe(226);
        expect((await back.result()).sha256).toBe(sha256(body));
      } finally {
        back.close();
      }
    } finally {
      channel.close();
    }
    await expectServes(srv, mode);
  });
});

describe('an upload whose data connection never comes', () => {
  const before = Buffer.from('the file as it was before the STOR\n');

  function existing(name: string): string {
    const file = path.join(srv.root, name);
    writeFileSync(file, before);
    return file;
  }

  it('passive, cut by ABOR before the client connects: the old file is whole', async () => {
    const file = existing('kept-passive.bin');
    const ctl = await login();
    expect((await ctl.cmd('EPSV')).code).toBe(229);
    expect((await ctl.cmd('STOR /kept-passive.bin')).code).toBe(150);
    ctl.send('ABOR');
    expect((await ctl.reply()).code).toBe(426);
    expect((await ctl.reply()).code).toBe(226);
    expect(readFileSync(file)).toEqual(before);
  });

  it('active, to a port nobody listens on: 150, 425, and the old file is whole', async () => {
    const file = existing('kept-active.bin');
    const ctl = await login();
    const port = await freePort();
    await ctl.expect(`PORT 127,0,0,1,${port >> 8},${port & 255}`, 200);
    expect((await ctl.cmd('STOR /kept-active.bin')).code).toBe(150);
    expect((await ctl.reply()).code).toBe(425);
    expect(readFileSync(file)).toEqual(before);
  });
});
