// --atomic-uploads (issue 20, item 4): a STOR writes a hidden temporary file
// beside its target and renames it into place only when the upload ends
// well. A RETR meanwhile reads the old file whole, two STORs to one name
// leave one whole upload (the last to end), and an upload that fails leaves
// the old file and no temporary. APPE and REST+STOR write in place, under the
// lock, as without the setting. Transfers are held in flight by clients that
// keep their data connection open: no timing is assumed.
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { eventually, retrieve, sha256 } from './helpers/clients.js';
import { describeReply, finishUpload as finish, type HeldUpload, useHeldClients } from './helpers/held-transfers.js';
import { useServer } from './helpers/server.js';

const srv = useServer({ writable: true, atomicUploads: true });
const onServer = (name: string) => path.join(srv.root, name);
const tempPrefix = '.muxftpd-upload.';
const { login, epsv, holdUpload } = useHeldClients(srv);

/** The temporary files in the root (the tests upload there). */
async function temps(): Promise<string[]> {
  return (await readdir(srv.root)).filter((n) => n.startsWith(tempPrefix));
}

/** STOR `name` with `first` written into a new temporary file: the upload is in flight. */
async function holdStor(name: string, first: Buffer): Promise<HeldUpload> {
  const before = await temps();
  return holdUpload('STOR', name, first, async () => {
    const now = (await temps()).filter((n) => !before.includes(n));
    return now.length === 1 && (await stat(onServer(now[0] ?? ''))).size === first.length;
  });
}

async function expectNoTemps(): Promise<void> {
  expect(await eventually(async () => (await temps()).length === 0, 10_000), `temporaries left: ${(await temps()).join(', ')}`).toBe(
    true,
  );
}

describe('RETR while an atomic STOR writes', () => {
  it('reads the old file whole, then the new one; listings do not show the temporary', async () => {
    const old = randomBytes(1024 * 1024);
    await writeFile(onServer('replaced.bin'), old);
    const upload = randomBytes(2 * 1024 * 1024);
    const half = 1024 * 1024 + 777;
    const writer = await holdStor('replaced.bin', upload.subarray(0, half));

    const reader = await login();
    const during = await retrieve(reader, 'EPSV', '/replaced.bin');
    expect(during.prelim.code, describeReply(during.prelim)).toBe(150);
    expect(during.final?.code).toBe(226);
    expect(during.sha256).toBe(sha256(old));

    for (const verb of ['NLST', 'LIST', 'MLSD']) {
      const channel = await epsv(reader, true);
      expect((await reader.cmd(verb)).code).toBe(150);
      expect((await reader.reply()).code).toBe(226);
      const text = (await channel.result()).data?.toString('utf8') ?? '';
      expect(text).toContain('replaced.bin');
      expect(text, verb).not.toContain(tempPrefix);
    }

    const final = await finish(writer, upload.subarray(half));
    expect(final.code, describeReply(final)).toBe(226);
    const after = await retrieve(reader, 'EPSV', '/replaced.bin');
    expect(after.final?.code).toBe(226);
    expect(after.sha256).toBe(sha256(upload));
    expect(await temps()).toEqual([]);
  });

  it('a new file does not exist until its upload has ended', async () => {
    const upload = randomBytes(300_000);
    const writer = await holdStor('brand-new.bin', upload.subarray(0, 1000));
    const reader = await login();
    const during = await retrieve(reader, 'EPSV', '/brand-new.bin');
    expect(during.prelim.code, describeReply(during.prelim)).toBe(550);
    expect((await finish(writer, upload.subarray(1000))).code).toBe(226);
    expect(sha256(await readFile(onServer('brand-new.bin')))).toBe(sha256(upload));
  });
});

describe('two atomic STORs to one name', () => {
  it('both get 226 and the file is exactly one upload: the last to end', async () => {
    await writeFile(onServer('twice.bin'), randomBytes(100_000));
    const first = randomBytes(1024 * 1024);
    const second = randomBytes(1024 * 1024);
    const cut = 400_000;
    const a = await holdStor('twice.bin', first.subarray(0, cut));
    const b = await holdStor('twice.bin', second.subarray(0, cut));
    expect((await finish(a, first.subarray(cut))).code).toBe(226);
    expect(sha256(await readFile(onServer('twice.bin')))).toBe(sha256(first));
    expect((await finish(b, second.subarray(cut))).code).toBe(226);
    const result = sha256(await readFile(onServer('twice.bin')));
    expect([sha256(first), sha256(second)]).toContain(result);
    expect(result).toBe(sha256(second));
    expect(await temps()).toEqual([]);
  });
});

describe('an atomic STOR that fails', () => {
  it('a reset data connection: 426, the old file stays whole and the temporary goes', async () => {
    const old = randomBytes(200_000);
    await writeFile(onServer('kept.bin'), old);
    const up = await holdStor('kept.bin', randomBytes(500_000));
    up.channel.reset();
    const r = await up.ctl.reply();
    expect(r.code, describeReply(r)).toBe(426);
    expect(r.text).toContain('discarded');
    expect(sha256(await readFile(onServer('kept.bin')))).toBe(sha256(old));
    await expectNoTemps();
  });

  it('ABOR, then a client that disconnects mid-upload: the old file stays, no temporary is left', async () => {
    const old = randomBytes(200_000);
    await writeFile(onServer('kept2.bin'), old);
    const aborted = await holdStor('kept2.bin', randomBytes(300_000));
    aborted.ctl.send('ABOR');
    expect((await aborted.ctl.reply()).code).toBe(426);
    expect((await aborted.ctl.reply()).code).toBe(226);
    const gone = await holdStor('kept2.bin', randomBytes(300_000));
    // The control connection only: a data connection that ends cleanly (FIN) is a complete upload.
    gone.ctl.destroy();
    await expectNoTemps();
    expect(sha256(await readFile(onServer('kept2.bin')))).toBe(sha256(old));
  });
});

describe('uploads that cannot be atomic write in place, under the lock', () => {
  async function inPlace(verb: string, name: string, rest?: number): Promise<void> {
    await writeFile(onServer(name), 'before\n');
    const writer = await login();
    const channel = await epsv(writer);
    if (rest !== undefined) expect((await writer.cmd(`REST ${rest}`)).code).toBe(350);
    expect((await writer.cmd(`${verb} ${name}`)).code).toBe(150);
    const socket = await channel.connected;
    socket.write('more\n');
    const grown = () => stat(onServer(name)).then((s) => s.size === 12, () => false);
    expect(await eventually(grown, 10_000), `${verb} writes into ${name} itself`).toBe(true);
    const reader = await login();
    const during = await retrieve(reader, 'EPSV', `/${name}`);
    expect(during.prelim.code, describeReply(during.prelim)).toBe(450);
    socket.end();
    expect((await writer.reply()).code).toBe(226);
    expect(await readFile(onServer(name), 'utf8')).toBe('before\nmore\n');
    expect(await temps()).toEqual([]);
  }

  it('APPE', () => inPlace('APPE', 'appended.bin'));
  it('REST + STOR', () => inPlace('STOR', 'resumed.bin', 7));
});
