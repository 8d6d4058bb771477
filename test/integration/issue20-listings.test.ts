// Issue 20, listings: a name with CR or LF is one entry in every listing
// (escaped as STAT escapes it: CR as CR NUL, LF as NUL), never several lines;
// a name that is not UTF-8 is left out of every listing; a FIFO is typed
// OS.unix=fifo in MLST/MLSD and its RETR is refused with 550 at once.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataChannel, describeRun, run } from './helpers/clients.js';
import { listingBytes, useServer, withLogin } from './helpers/server.js';

const srv = useServer();

/** Sorted as the server sorts them (UTF-16 code units). */
const breakNames = ['cr\ronly.txt', 'lf\nonly.txt', 'plain.txt', 'two\r\nlines.txt'];
/** What each becomes on the wire: CR → CR NUL, LF → NUL (RFC 959/2640, as STAT and every reply do). */
const escaped = ['cr\r\0only.txt', 'lf\0only.txt', 'plain.txt', 'two\r\0\0lines.txt'];

beforeAll(async () => {
  await mkdir(path.join(srv.root, 'breaks'));
  for (const name of breakNames) await writeFile(path.join(srv.root, 'breaks', name), 'x');
  await mkdir(path.join(srv.root, 'raw'));
  await writeFile(path.join(srv.root, 'raw', 'ok.txt'), 'ok');
  // 'bad\xff.txt': not UTF-8.
  await writeFile(Buffer.concat([Buffer.from(path.join(srv.root, 'raw') + '/bad'), Buffer.from([0xff]), Buffer.from('.txt')]), 'bad');
  await mkdir(path.join(srv.root, 'fifo'));
  const r = await run('mkfifo', [path.join(srv.root, 'fifo', 'pipe')]);
  if (r.code !== 0) throw new Error(`mkfifo: ${describeRun(r)}`);
});

/** A listing's lines as the client splits them at CRLF (latin1 keeps every byte as it came). */
function linesOf(body: Buffer): string[] {
  const text = body.toString('latin1');
  expect(text.endsWith('\r\n')).toBe(true);
  return text.slice(0, -2).split('\r\n');
}

const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

describe('a name with CR or LF is one listing line', () => {
  it('NLST: one line per entry, CR sent as CR NUL and LF as NUL', async () => {
    const body = await withLogin(srv, (ctl) => listingBytes(ctl, 'NLST /breaks'));
    expect(body).toEqual(Buffer.from(escaped.map((n) => n + '\r\n').join(''), 'utf8'));
  });

  it('LIST: one ls line per entry, no line break inside any', async () => {
    const body = await withLogin(srv, (ctl) => listingBytes(ctl, 'LIST /breaks'));
    const lines = linesOf(body);
    expect(lines).toHaveLength(breakNames.length);
    lines.forEach((line, i) => {
      expect(line).toMatch(/^-[rwx-]{9} +1 ftp +ftp +1 /);
      expect(line.endsWith(` ${latin1(escaped[i] ?? '')}`), JSON.stringify(line)).toBe(true);
      expect(line).not.toContain('\n');
    });
  });

  it('MLSD: one fact line per entry, every one with its facts', async () => {
    const body = await withLogin(srv, (ctl) => listingBytes(ctl, 'MLSD /breaks'));
    const lines = linesOf(body);
    expect(lines).toHaveLength(breakNames.length);
    lines.forEach((line, i) => {
      expect(line).toMatch(/^type=file;size=1;modify=\d{14};perm=r;unique=[0-9a-f]+U[0-9a-f]+; /);
      expect(line.endsWith(`; ${latin1(escaped[i] ?? '')}`), JSON.stringify(line)).toBe(true);
    });
  });

  it('STAT <dir> shows the same names as LIST', async () => {
    await withLogin(srv, async (ctl) => {
      const stat = await ctl.cmd('STAT /breaks');
      expect(stat.code).toBe(213);
      // First and last lines frame the listing; between them, one line per entry.
      const names = stat.lines.slice(1, -1).map((l) => /^ \S{10} +\d+ ftp +ftp +\d+ \w{3} [ \d]\d (?:\d\d:\d\d| \d{4}) (.*)$/s.exec(l)?.[1]);
      expect(names).toEqual(escaped);
    });
  });
});

describe('a name that is not UTF-8 is left out of listings', () => {
  it('NLST, LIST and MLSD list the other entries only', async () => {
    await withLogin(srv, async (ctl) => {
      expect((await listingBytes(ctl, 'NLST /raw')).toString('latin1')).toBe('ok.txt\r\n');
      expect(linesOf(await listingBytes(ctl, 'LIST /raw'))).toEqual([expect.stringMatching(/ ok\.txt$/)]);
      expect(linesOf(await listingBytes(ctl, 'MLSD /raw'))).toEqual([expect.stringMatching(/^type=file;size=2;.* ok\.txt$/)]);
    });
  });
});

describe('a FIFO', () => {
  it('MLST and MLSD type it OS.unix=fifo (RFC 3659 7.5.1), with no perm to RETR or STOR it', async () => {
    await withLogin(srv, async (ctl) => {
      const one = await ctl.cmd('MLST /fifo/pipe');
      expect(one.code).toBe(250);
      expect(one.lines[1]).toMatch(/^ type=OS\.unix=fifo;size=0;modify=\d{14};perm=;unique=[0-9a-f]+U[0-9a-f]+; \/fifo\/pipe$/);
      expect(linesOf(await listingBytes(ctl, 'MLSD /fifo'))).toEqual([expect.stringMatching(/^type=OS\.unix=fifo;size=0;.*perm=;.* pipe$/)]);
      expect(linesOf(await listingBytes(ctl, 'LIST /fifo'))).toEqual([expect.stringMatching(/^p[rwx-]{9} .* pipe$/)]);
    });
  });

  it('RETR of a FIFO with no writer is refused with 550, and the session goes on', async () => {
    await withLogin(srv, async (ctl) => {
      const channel = await DataChannel.open(ctl, 'EPSV');
      try {
        const r = await ctl.cmd('RETR /fifo/pipe');
        expect(r.code, r.lines.join(' / ')).toBe(550);
        await ctl.expect('NOOP', 200);
      } finally {
        channel.close();
      }
    });
  });
});
