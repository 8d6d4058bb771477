// Every path-taking command while a local process swaps a directory with a
// symlink that leads out (renameat2 RENAME_EXCHANGE, as fast as it can, for a
// few seconds): for an anonymous session the link leads out of the served
// root, for an account it leads into another account's home. Nothing outside
// may be read, listed, created, removed or moved, whichever way each race
// falls: the kernel resolves every path beneath the session's directory fd.
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { hashPassword } from '../../src/auth/password.js';
import { DataChannel, FtpControl, retrieve, start } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

const noPython = missing('python3');

const base = await mkdtemp(path.join(os.tmpdir(), 'muxftpd-race-'));
const root = path.join(base, 'root');
const inside = 'inside, 29 bytes of it.......\n';
const secret = 'SECRET from outside, 40 bytes long.....\n';

/** `parent`/race (ours) and `parent`/swap → `outside` (not ours), each with an f.txt of its own size. */
async function racePair(parent: string, outside: string): Promise<void> {
  await mkdir(path.join(parent, 'race'), { recursive: true });
  await writeFile(path.join(parent, 'race', 'f.txt'), inside);
  await mkdir(outside, { recursive: true });
  await writeFile(path.join(outside, 'f.txt'), secret);
  await writeFile(path.join(outside, 'only-outside.txt'), 'x');
  await writeFile(path.join(outside, 'victim.txt'), 'must survive');
  await symlink(path.relative(parent, outside), path.join(parent, 'swap'));
}

await racePair(root, path.join(base, 'outside'));
await racePair(path.join(root, 'home', 'alice'), path.join(root, 'home', 'bob'));
const usersFile = path.join(base, 'users');
await writeFile(usersFile, `alice:${await hashPassword('alice pw')}:/home/alice:rw\n`);

const srv = useServer({ root, users: usersFile, writable: true, loginFailDelay: 0 });

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

/** What the outside directory holds: names and contents, to compare before and after. */
async function snapshot(dir: string): Promise<string> {
  const names = (await readdir(dir)).sort();
  const parts = await Promise.all(names.map(async (n) => `${n}=${await readFile(path.join(dir, n), 'utf8').catch(() => '<dir>')}`));
  return parts.join('|');
}

// Swaps race and swap in `parent` until killed or `seconds` have passed; prints the swaps done.
const swapper = `
import ctypes, os, sys, time
libc = ctypes.CDLL(None, use_errno=True)
parent, seconds = sys.argv[1], float(sys.argv[2])
a, b = os.path.join(parent, 'race').encode(), os.path.join(parent, 'swap').encode()
end, n = time.time() + seconds, 0
while time.time() < end:
    if libc.renameat2(-100, a, -100, b, 2) == 0:
        n += 1
print(n)
`;

interface Seen {
  /** Answers that could only come from inside: the race ran both ways. */
  inside: number;
  leaks: string[];
}

async function race(ctl: FtpControl, parent: string, seconds: number): Promise<Seen> {
  const seen: Seen = { inside: 0, leaks: [] };
  const swap = start('python3', ['-c', swapper, parent, String(seconds)]);
  // What only the outside holds: a name, f.txt's size (as SIZE and MLST say it), its content.
  const marks = ['only-outside', `213 ${secret.length}`, `size=${secret.length};`, 'SECRET'];
  const leak = (what: string, text: string) => {
    if (marks.some((m) => text.includes(m))) seen.leaks.push(`${what}: ${text}`);
  };
  const deadline = Date.now() + seconds * 1000;
  try {
    for (let i = 0; i < 5000 && Date.now() < deadline; i++) {
      const size = await ctl.cmd('SIZE race/f.txt');
      leak('SIZE', size.lines.join('\n'));
      if (size.lines[0] === `213 ${inside.length}`) seen.inside++;
      leak('MLST', (await ctl.cmd('MLST race/f.txt')).lines.join('\n'));
      leak('STAT', (await ctl.cmd('STAT race')).lines.join('\n'));
      if ((await ctl.cmd('CWD race')).code === 250) {
        leak('STAT . after CWD', (await ctl.cmd('STAT .')).lines.join('\n'));
        await ctl.expect('CWD /', 250);
      }
      if ((await ctl.cmd('MKD race/made')).code === 257) await ctl.cmd('RMD race/made');
      await ctl.cmd('DELE race/victim.txt');
      if ((await ctl.cmd('RNFR race/f.txt')).code === 350) {
        if ((await ctl.cmd('RNTO race/moved.txt')).code === 250) {
          await ctl.cmd('RNFR race/moved.txt');
          await ctl.cmd('RNTO race/f.txt');
        }
      }
      if (i % 8 === 0) {
        const got = await retrieve(ctl, 'EPSV', 'race/f.txt', { keep: true });
        leak('RETR', got.data?.toString('utf8') ?? '');
        const channel = await DataChannel.open(ctl, 'EPSV', { keep: true });
        if ((await ctl.cmd('LIST race')).code === 150) {
          await ctl.reply();
          leak('LIST', (await channel.result()).data?.toString('utf8') ?? '');
        }
        channel.close();
        const up = await DataChannel.open(ctl, 'EPSV');
        if ((await ctl.cmd('STOR race/up.txt')).code === 150) {
          (await up.connected).end('uploaded');
          await ctl.reply();
        }
        up.close();
        await ctl.cmd('DELE race/up.txt');
      }
    }
  } finally {
    await swap.exited;
  }
  return seen;
}

/** Races in `parent` on a logged-in `ctl`, then checks that `outside` is as it was. */
async function expectConfined(ctl: FtpControl, parent: string, outside: string): Promise<void> {
  const before = await snapshot(outside);
  try {
    const seen = await race(ctl, parent, 3);
    expect(seen.leaks).toEqual([]);
    expect(seen.inside).toBeGreaterThan(0);
  } finally {
    ctl.destroy();
  }
  expect(await snapshot(outside)).toBe(before);
}

describe.skipIf(noPython)('paths stay confined while a local process swaps a directory for a symlink', () => {
  it('anonymous: nothing outside the served root is read, listed, created, removed or moved', async () => {
    await expectConfined(await FtpControl.login(srv.host, srv.port), root, path.join(base, 'outside'));
  }, 60_000);

  it("an account: nothing of another account's home, though inside the root", async () => {
    const ctl = await FtpControl.connect(srv.host, srv.port);
    await ctl.expect('USER alice', 331);
    await ctl.expect('PASS alice pw', 230);
    await ctl.expect('TYPE I', 200);
    await expectConfined(ctl, path.join(root, 'home', 'alice'), path.join(root, 'home', 'bob'));
  }, 60_000);
});
