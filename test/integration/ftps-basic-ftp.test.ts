// The basic-ftp npm client over FTPS: secure: true (explicit, AUTH TLS) and
// secure: 'implicit' (the implicit listener). Its data connections resume
// the control connection's session; downloads, an upload and a listing are
// byte-identical, and FEAT lists the FTPS commands.
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { Client } from 'basic-ftp';
import { afterEach, describe, expect, it } from 'vitest';
import { sha256 } from './helpers/clients.js';
import { implicitPort, insecure, useFtpsServer } from './helpers/ftps.js';

const srv = useFtpsServer({ writable: true });

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

afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

async function connect(secure: true | 'implicit'): Promise<Client> {
  const client = new Client(10_000);
  clients.push(client);
  const port = secure === 'implicit' ? implicitPort(srv) : srv.port;
  await client.access({ host: srv.host, port, user: 'anonymous', password: 'basic-ftp@example.com', secure, secureOptions: insecure });
  return client;
}

describe.each([
  ['explicit (secure: true)', true],
  ['implicit (secure: "implicit")', 'implicit'],
] as const)('basic-ftp, %s', (name, secure) => {
  it('logs in over TLS; FEAT lists AUTH TLS, PBSZ, PROT and CCC', async () => {
    const client = await connect(secure);
    const features = await client.features();
    for (const f of ['PBSZ', 'PROT', 'CCC']) expect(features.has(f), f).toBe(true);
    expect(features.get('AUTH')).toBe('TLS');
  });

  it('downloads 1 MiB and 5 MiB byte-identical', async () => {
    const client = await connect(secure);
    for (const file of [srv.files.mib1, srv.files.mib5]) {
      const sink = new HashSink();
      const res = await client.downloadTo(sink, file.path);
      expect(res.code).toBe(226);
      expect(sink.bytes).toBe(file.size);
      expect(sink.digest()).toBe(file.sha256);
    }
  });

  it('uploads 2 MiB byte-identical, and lists it', async () => {
    const client = await connect(secure);
    const body = randomBytes(2 * 1024 * 1024 + 1);
    const name = `basic-ftp-${secure === true ? 'explicit' : 'implicit'}.bin`;
    const res = await client.uploadFrom(Readable.from([body]), name);
    expect(res.code).toBe(226);
    expect(sha256(await readFile(path.join(srv.root, name)))).toBe(sha256(body));
    const list = await client.list('/');
    expect(list.find((f) => f.name === name)?.size).toBe(body.length);
  });
});
