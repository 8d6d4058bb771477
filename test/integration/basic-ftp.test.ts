// The basic-ftp npm client: logs in, downloads, asks SIZE, resumes with REST
// (downloadTo's startAt), and parses the server's listings.
import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

const srv = useServer();

/** A Writable that hashes and counts what it is given. */
class HashSink extends Writable {
  private readonly hash = createHash('sha256');
  bytes = 0;
  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    done();
  }
  digest(): string {
    return this.hash.digest('hex');
  }
}

const clients: Client[] = [];

/** A logged-in client; the 10 s timeout bounds every command and transfer. */
async function connect(): Promise<Client> {
  const client = new Client(10_000);
  clients.push(client);
  await client.access({ host: srv.host, port: srv.port, user: 'anonymous', password: 'basic-ftp@example.com' });
  return client;
}

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

describe('basic-ftp', () => {
  it('logs in (USER/PASS, FEAT, TYPE I, …) and gets a working session', async () => {
    const client = await connect();
    expect(client.closed).toBe(false);
    expect(await client.pwd()).toBe('/');
    const features = await client.features();
    expect(features.has('SIZE')).toBe(true);
    expect(features.has('EPSV')).toBe(true);
    expect([...features.keys()]).toContain('REST');
  });

  it('downloads 1 MiB and 5 MiB byte-identical', async () => {
    const client = await connect();
    for (const file of [srv.files.mib1, srv.files.mib5]) {
      const sink = new HashSink();
      const res = await client.downloadTo(sink, file.path);
      expect(res.code).toBe(226);
      expect(sink.bytes).toBe(file.size);
      expect(sink.digest()).toBe(file.sha256);
    }
  });

  it('asks SIZE', async () => {
    const client = await connect();
    expect(await client.size(srv.files.mib5.path)).toBe(5 * 1024 * 1024);
    expect(await client.size(srv.files.empty.path)).toBe(0);
    expect(await client.size(srv.files.nested.path)).toBe(srv.files.nested.size);
  });

  it('SIZE of a missing file rejects with the 550 reply', async () => {
    const client = await connect();
    await expect(client.size('/no-such-file')).rejects.toMatchObject({ code: 550 });
    // The session survives the error.
    expect(await client.size(srv.files.hello.path)).toBe(srv.files.hello.size);
  });

  it('resumes with REST: downloadTo(…, startAt) gives the tail', async () => {
    const client = await connect();
    const file = srv.files.mib5;
    for (const startAt of [1, 1234567, file.size - 1]) {
      const sink = new HashSink();
      await client.downloadTo(sink, file.path, startAt);
      expect(sink.bytes).toBe(file.size - startAt);
      expect(sink.digest()).toBe(sha256(file.data.subarray(startAt)));
    }
  });

  it('parses the directory listing (LIST) with names, sizes and kinds', async () => {
    const client = await connect();
    const list = await client.list('/');
    const byName = new Map(list.map((f) => [f.name, f]));
    expect(byName.get('1mib.bin')?.size).toBe(1024 * 1024);
    expect(byName.get('1mib.bin')?.isFile).toBe(true);
    expect(byName.get('sub')?.isDirectory).toBe(true);
    expect(byName.get('with space.txt')?.size).toBe(srv.files.spaced.size);
  });

  it('changes directory and downloads by a relative path', async () => {
    const client = await connect();
    await client.cd('/sub/dir');
    expect(await client.pwd()).toBe('/sub/dir');
    const sink = new HashSink();
    await client.downloadTo(sink, 'nested.txt');
    expect(sink.digest()).toBe(srv.files.nested.sha256);
  });

  it('downloading a missing file rejects with 550 and the session survives', async () => {
    const client = await connect();
    await expect(client.downloadTo(new HashSink(), '/missing.bin')).rejects.toMatchObject({ code: 550 });
    const sink = new HashSink();
    await client.downloadTo(sink, srv.files.hello.path);
    expect(sink.digest()).toBe(srv.files.hello.sha256);
  });
});
