// Listings and navigation on the default (read-only) server: curl lists a
// directory; ftplib's mlsd and nlst; MLST, OPTS MLST and FEAT; STAT <path>;
// both ls date forms; CWD/XCWD/CDUP/XCUP/XPWD; names with spaces, UTF-8 and
// leading dashes; symlinks out of the root neither listed nor opened, a
// symlink inside the root listed as what it points to. Every write command is
// refused with 550 and leaves the tree as it was.
import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { curl, DataChannel, describeRun, FtpControl, python } from './helpers/clients.js';
import { listingBytes, useServer, withLogin } from './helpers/server.js';
import { treeDigest } from './helpers/tree.js';

const srv = useServer();

beforeAll(async () => {
  const dir = path.join(srv.root, 'names');
  await mkdir(path.join(dir, 'ünï dir'), { recursive: true });
  await writeFile(path.join(dir, '-dash.txt'), 'dash\n');
  await writeFile(path.join(dir, 'spaced name.txt'), 'spaced\n');
  await writeFile(path.join(dir, '日本語.txt'), 'utf-8\n');
  await writeFile(path.join(dir, 'old.txt'), 'old\n');
  await utimes(path.join(dir, 'old.txt'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
  await symlink('../hello.txt', path.join(dir, 'link-inside'));
  await symlink('../../secret.txt', path.join(dir, 'link-outside'));
  await symlink('nowhere', path.join(dir, 'link-dangling'));
});

/** Runs `line` after a data setup (EPSV) and returns the listing text. */
async function listing(ctl: FtpControl, line: string): Promise<string> {
  return (await listingBytes(ctl, line)).toString('utf8');
}

const names = ['-dash.txt', 'link-inside', 'old.txt', 'spaced name.txt', 'ünï dir', '日本語.txt'];

describe('listings', () => {
  it.skipIf(missing('curl'))('curl lists a directory (LIST) and its names (NLST, -l)', async () => {
    const long = await curl([srv.url('/names/')]);
    expect(long.code, describeRun(long)).toBe(0);
    const lines = long.stdout.toString('utf8').trim().split(/\r?\n/);
    expect(lines.map((l) => l.split(/\s+/).slice(8).join(' '))).toEqual(names);
    const short = await curl(['-l', srv.url('/names/')]);
    expect(short.code, describeRun(short)).toBe(0);
    expect(short.stdout.toString('utf8').trim().split(/\r?\n/)).toEqual(names);
  });

  it('LIST uses both date forms, shows a symlink inside as its target, and hides the ones out or nowhere', async () => {
    const text = await withLogin(srv, (ctl) => listing(ctl, 'LIST -la /names'));
    expect(text).toMatch(/^-[rw-]{9} +\d+ ftp +ftp +4 Feb {2}3 {2}2001 old\.txt$/m);
    expect(text).toMatch(/^-[rw-]{9} +\d+ ftp +ftp +5 \w{3} [ \d]\d \d\d:\d\d -dash\.txt$/m);
    expect(text).toMatch(/^-[rw-]{9} .* link-inside$/m);
    expect(text).toMatch(/^d[rwx-]{9} .* ünï dir$/m);
    expect(text).not.toMatch(/link-outside|link-dangling/);
  });

  it('LIST and RETR of a name with a leading dash', async () => {
    await withLogin(srv, async (ctl) => {
      await ctl.expect('CWD /names', 250);
      expect(await listing(ctl, 'LIST -dash.txt')).toMatch(/ -dash\.txt\r\n$/);
      expect(await listing(ctl, 'NLST -dash.txt')).toBe('-dash.txt\r\n');
    });
  });

  it.skipIf(missing('python3'))('ftplib: mlsd facts and nlst', async () => {
    const script = `
import ftplib, json, sys
ftp = ftplib.FTP(timeout=10, encoding='utf-8')
ftp.connect(sys.argv[1], int(sys.argv[2]))
ftp.login()
entries = {name: facts for name, facts in ftp.mlsd('/names', facts=['type', 'size', 'perm'])}
print(json.dumps({'mlsd': entries, 'nlst': ftp.nlst('/names')}))
ftp.quit()
`;
    const r = await python(script, [srv.host, String(srv.port)]);
    expect(r.code, describeRun(r)).toBe(0);
    const out = JSON.parse(r.stdout.toString()) as { mlsd: Record<string, Record<string, string>>; nlst: string[] };
    expect(Object.keys(out.mlsd).sort()).toEqual([...names].sort());
    expect(out.mlsd['old.txt']).toEqual({ type: 'file', size: '4', perm: 'r' });
    expect(out.mlsd['ünï dir']).toMatchObject({ type: 'dir', perm: 'el' });
    expect(out.mlsd['link-inside']).toMatchObject({ type: 'file', size: String(srv.files.hello.size) });
    expect(out.nlst.map((n) => n.replace(/^.*\//, ''))).toEqual(names);
  });

  it('MLST, OPTS MLST and the MLST line of FEAT', async () => {
    await withLogin(srv, async (ctl) => {
      const feat = await ctl.cmd('FEAT');
      expect(feat.lines).toContain(' MLST type*;size*;modify*;perm*;unique*;');
      const one = await ctl.cmd('MLST /names/old.txt');
      expect(one.code).toBe(250);
      expect(one.lines[1]).toMatch(/^ type=file;size=4;modify=20010203040506;perm=r;unique=[0-9a-f]+U[0-9a-f]+; \/names\/old\.txt$/);
      expect((await ctl.cmd('OPTS MLST size;type;bogus;')).text).toBe('MLST OPTS type;size;');
      expect((await ctl.cmd('FEAT')).lines).toContain(' MLST type*;size*;modify;perm;unique;');
      expect((await ctl.cmd('MLST /names')).lines[1]).toMatch(/^ type=dir;size=\d+; \/names$/);
      expect((await ctl.cmd('MLST /names/link-outside')).code).toBe(550);
      const epsv = await DataChannel.open(ctl, 'EPSV');
      expect((await ctl.cmd('MLSD /names/old.txt')).code).toBe(501);
      epsv.close();
    });
  });

  it('STAT <path> lists on the control connection', async () => {
    await withLogin(srv, async (ctl) => {
      const r = await ctl.cmd('STAT /names');
      expect(r.code).toBe(213);
      expect(r.lines.join('\n')).toMatch(/ old\.txt\n/);
      expect(r.lines.join('\n')).not.toMatch(/link-outside/);
    });
  });
});

describe('navigation', () => {
  it('CWD, XCWD, CDUP, XCUP, XPWD inside the root; .. stops at /; a symlink out is refused', async () => {
    await withLogin(srv, async (ctl) => {
      await ctl.expect('CWD /names/ünï dir', 250);
      expect((await ctl.cmd('XPWD')).text).toBe('"/names/ünï dir" is the current directory.');
      await ctl.expect('XCUP', 250);
      expect((await ctl.cmd('PWD')).text).toMatch(/^"\/names"/);
      await ctl.expect('CDUP', 250);
      await ctl.expect('CDUP', 250);
      expect((await ctl.cmd('PWD')).text).toMatch(/^"\/"/);
      await ctl.expect('XCWD sub/dir', 250);
      await ctl.expect('CWD ../../../..', 250);
      expect((await ctl.cmd('PWD')).text).toMatch(/^"\/"/);
      expect((await ctl.cmd('CWD /escape-dir')).code).toBe(550);
      expect((await ctl.cmd('CWD /names/old.txt')).code).toBe(550);
    });
  });
});

describe('read-only by default', () => {
  it('refuses every write command with 550 and changes nothing', async () => {
    const before = await treeDigest(srv.root);
    await withLogin(srv, async (ctl) => {
      for (const verb of ['STOR new.bin', 'APPE hello.txt', 'STOU', 'STOR hello.txt']) {
        const channel = await DataChannel.open(ctl, 'EPSV');
        expect((await ctl.cmd(verb)).code, verb).toBe(550);
        channel.close();
        await ctl.expect('ABOR', 225);
      }
      for (const line of ['DELE hello.txt', 'MKD newdir', 'XMKD newdir', 'RMD sub', 'XRMD sub', 'RNFR hello.txt']) {
        expect((await ctl.cmd(line)).code, line).toBe(550);
      }
      expect((await ctl.cmd('RNTO moved.txt')).code).toBe(503);
      expect((await ctl.cmd('ALLO 1000')).code).toBe(202);
    });
    expect(await treeDigest(srv.root)).toEqual(before);
  });

  it.skipIf(missing('curl'))('curl -T is refused', async () => {
    const r = await curl(['-T', '-', srv.url('/curl-upload.txt')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/550|denied/i);
  });
});
