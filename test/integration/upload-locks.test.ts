// Upload integrity without --atomic-uploads (issue 20, item 4): the engine
// takes a non-blocking open-file-description lock right after it opens a
// transfer's file, shared for RETR and exclusive for STOR/APPE, so a transfer
// that would read a file being written, or write a file being read or
// written, is refused with 450 before its 150, and the other one is untouched.
// Transfers are kept in flight by clients that hold their data connection
// open (an upload that has not ended) or stop reading it (a download of a
// file larger than the socket buffers): no timing is assumed.
import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataChannel, FtpControl, type FtpReply, retrieve, sha256, stalledDownload } from './helpers/clients.js';
import { describeReply, finishUpload, type HeldUpload, useHeldClients } from './helpers/held-transfers.js';
import { useServer } from './helpers/server.js';

const srv = useServer({ writable: true });
const onServer = (name: string) => path.join(srv.root, name);
const { login, epsv, holdUpload: hold } = useHeldClients(srv);

/** `verb name` in flight, `first` on disk (the file then `size` bytes long). */
function holdUpload(verb: string, name: string, first: Buffer, size = first.length): Promise<HeldUpload> {
  return hold(verb, name, first, () => stat(onServer(name)).then((s) => s.size === size));
}

const busy = /^Requested file action not taken: file busy/;

describe('RETR while a STOR writes the file', () => {
  it('450 for the RETR; the STOR ends with 226 and the file is exactly the upload, readable at once', async () => {
    const old = randomBytes(1024 * 1024);
    await writeFile(onServer('retr-during-stor.bin'), old);
    const upload = randomBytes(2 * 1024 * 1024);
    const half = 1024 * 1024 + 4321;
    const writer = await holdUpload('STOR', 'retr-during-stor.bin', upload.subarray(0, half));

    const reader = await login();
    const during = await retrieve(reader, 'EPSV', '/retr-during-stor.bin');
    expect(during.prelim.code, describeReply(during.prelim)).toBe(450);
    expect(during.prelim.text).toMatch(busy);

    const final = await finishUpload(writer, upload.subarray(half));
    expect(final.code, describeReply(final)).toBe(226);
    expect(sha256(await readFile(onServer('retr-during-stor.bin')))).toBe(sha256(upload));
    // The lock is gone with the 226, though the replaced file's close runs off the worker.
    const after = await retrieve(reader, 'EPSV', '/retr-during-stor.bin');
    expect(after.prelim.code, describeReply(after.prelim)).toBe(150);
    expect(after.final?.code).toBe(226);
    expect(after.sha256).toBe(sha256(upload));
  });

  it('450 for a RETR while an APPE writes the file', async () => {
    await writeFile(onServer('retr-during-appe.bin'), 'before\n');
    const writer = await holdUpload('APPE', 'retr-during-appe.bin', Buffer.from('appended\n'), 16);
    const reader = await login();
    const during = await retrieve(reader, 'EPSV', '/retr-during-appe.bin');
    expect(during.prelim.code, describeReply(during.prelim)).toBe(450);
    expect((await finishUpload(writer, Buffer.alloc(0))).code).toBe(226);
    expect(await readFile(onServer('retr-during-appe.bin'), 'utf8')).toBe('before\nappended\n');
  });
});

describe('STOR while a RETR reads the file', () => {
  it('450 for the STOR and for an APPE; the file is untouched', async () => {
    const reader = await login();
    // A reader that stops reading: 64 MiB do not fit in the socket buffers, so the RETR stays in flight.
    const channel = await stalledDownload(reader, srv.fixture.big.path);
    try {
      const writer = await login();
      await epsv(writer);
      const stor = await writer.cmd(`STOR ${srv.fixture.big.path}`);
      expect(stor.code, describeReply(stor)).toBe(450);
      expect(stor.text).toMatch(busy);
      const appe = await writer.cmd(`APPE ${srv.fixture.big.path}`);
      expect(appe.code, describeReply(appe)).toBe(450);
    } finally {
      channel.close();
    }
    expect((await reader.reply()).code).toBe(426);
    expect((await stat(onServer(srv.fixture.big.path))).size).toBe(srv.fixture.big.size);
  });
});

describe('two STORs to one name', () => {
  it('the second gets 450 and keeps its data connection; the file is exactly the first upload', async () => {
    await writeFile(onServer('stor-stor.bin'), randomBytes(100_000));
    const first = randomBytes(1024 * 1024);
    const second = randomBytes(1024 * 1024);
    const half = 300_000;
    const a = await holdUpload('STOR', 'stor-stor.bin', first.subarray(0, half));

    const b = await login();
    const channel = await epsv(b, true);
    const r = await b.cmd('STOR stor-stor.bin');
    if (r.code === 150) {
      // Without locks: the second upload runs too, and both get 226.
      (await channel.connected).end(second);
      await b.reply();
    }
    expect(r.code, describeReply(r)).toBe(450);

    expect((await finishUpload(a, first.subarray(half))).code).toBe(226);
    const result = sha256(await readFile(onServer('stor-stor.bin')));
    expect([sha256(first), sha256(second)]).toContain(result);
    expect(result).toBe(sha256(first));

    // A refusal before the 150 leaves the data setup for the next transfer (RFC 959: the 450 alone).
    expect((await b.cmd(`RETR ${srv.files.hello.path}`)).code).toBe(150);
    expect((await b.reply()).code).toBe(226);
    expect((await channel.result()).sha256).toBe(srv.files.hello.sha256);
  });
});

describe('the lock ends with the transfer', () => {
  /** A holds a STOR of `name`; B's STOR of it gets 450. */
  async function contended(name: string): Promise<{ a: HeldUpload; b: FtpControl; bData: DataChannel }> {
    await writeFile(onServer(name), randomBytes(50_000));
    const a = await holdUpload('STOR', name, Buffer.from('partial'));
    const b = await login();
    const bData = await epsv(b);
    const r = await b.cmd(`STOR ${name}`);
    expect(r.code, describeReply(r)).toBe(450);
    return { a, b, bData };
  }

  /** B's STOR after A's end: 150, then its whole upload lands. */
  async function secondStores(b: FtpControl, bData: DataChannel, name: string, first: FtpReply): Promise<void> {
    expect(first.code, describeReply(first)).toBe(150);
    const bytes = randomBytes(200_000);
    (await bData.connected).end(bytes);
    expect((await b.reply()).code).toBe(226);
    expect(sha256(await readFile(onServer(name)))).toBe(sha256(bytes));
  }

  it('after ABOR', async () => {
    const { a, b, bData } = await contended('after-abor.bin');
    a.ctl.send('ABOR');
    expect((await a.ctl.reply()).code).toBe(426);
    expect((await a.ctl.reply()).code).toBe(226);
    await secondStores(b, bData, 'after-abor.bin', await b.cmd('STOR after-abor.bin'));
  });

  it('after the client resets the data connection (the 426 comes once the lock is gone)', async () => {
    const { a, b, bData } = await contended('after-reset.bin');
    a.channel.reset();
    expect((await a.ctl.reply()).code).toBe(426);
    await secondStores(b, bData, 'after-reset.bin', await b.cmd('STOR after-reset.bin'));
  });

  it('after the client disconnects', async () => {
    const { a, b, bData } = await contended('after-disconnect.bin');
    // The control connection only: the session's close ends the upload (a FIN on the data connection would complete it).
    a.ctl.destroy();
    // The close reaches the worker some time after: retry, bounded, while the lock is still held.
    let r = await b.cmd('STOR after-disconnect.bin');
    for (let i = 0; i < 200 && r.code === 450; i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      r = await b.cmd('STOR after-disconnect.bin');
    }
    await secondStores(b, bData, 'after-disconnect.bin', r);
  });
});
