// 200 clients at once over FTPS: each does AUTH TLS, logs in, PBSZ 0, PROT P,
// and, once all are ready, downloads 1 MiB over a data connection that
// resumes its control connection's session: every checksum right. Then 50
// upload at once over TLS, and every file on disk is what was sent.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256, withTimeout } from './helpers/clients.js';
import { loginTls, type TlsControl, type TlsTransfer, tlsTransfer, useFtpsServer } from './helpers/ftps.js';
import { expectServes } from './helpers/server.js';

const srv = useFtpsServer({ writable: true, threads: 2 });

/** Logs `clients` in over TLS, then runs `turn` for all of them together; every connection is closed after. */
async function allAtOnce<T>(clients: number, turn: (tc: TlsControl, i: number) => Promise<T>): Promise<PromiseSettledResult<T>[]> {
  const opened: TlsControl[] = [];
  let releaseAll!: () => void;
  const allReady = new Promise<void>((resolve) => (releaseAll = resolve));
  let arrived = 0;
  const one = async (i: number): Promise<T> => {
    let tc: TlsControl;
    try {
      tc = await loginTls(srv.host, srv.port, {}, 60_000);
      opened.push(tc);
    } finally {
      if (++arrived === clients) releaseAll();
    }
    await withTimeout(allReady, 120_000, 'every client ready');
    return turn(tc, i);
  };
  try {
    return await Promise.allSettled(Array.from({ length: clients }, (_, i) => one(i)));
  } finally {
    releaseAll();
    for (const tc of opened) tc.destroy();
  }
}

function failures<T>(settled: PromiseSettledResult<T>[]): string[] {
  return settled.flatMap((s, i) => (s.status === 'rejected' ? [`client ${i}: ${String(s.reason)}`] : []));
}

describe('FTPS under load', () => {
  it('200 clients at once each download 1 MiB over TLS with the right checksum', { timeout: 180_000 }, async () => {
    const clients = 200;
    const file = srv.files.mib1;
    const settled = await allAtOnce(clients, (tc) => tlsTransfer(tc, `RETR ${file.path}`, { timeoutMs: 60_000 }));
    const failed = failures(settled);
    expect(failed.slice(0, 10), `${failed.length} clients failed`).toEqual([]);
    const outcomes = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const wrong = outcomes.filter((o: TlsTransfer) => o.final?.code !== 226 || o.bytes !== file.size || o.sha256 !== file.sha256 || o.resumed !== true);
    expect(
      wrong.slice(0, 5).map((o) => ({ prelim: o.prelim.code, final: o.final?.lines, bytes: o.bytes, resumed: o.resumed, tls: o.tlsError })),
      `${wrong.length} of ${clients} downloads wrong`,
    ).toEqual([]);
    expect(outcomes).toHaveLength(clients);
  });

  it('50 clients at once each upload 256 KiB over TLS: every file on disk is byte-identical', { timeout: 180_000 }, async () => {
    const clients = 50;
    const bodies = Array.from({ length: clients }, () => randomBytes(256 * 1024 + 11));
    const settled = await allAtOnce(clients, (tc, i) =>
      tlsTransfer(tc, `STOR /tls-up-${i}.bin`, { upload: bodies[i] ?? Buffer.alloc(0), timeoutMs: 60_000 }),
    );
    const failed = failures(settled);
    expect(failed.slice(0, 10), `${failed.length} clients failed`).toEqual([]);
    for (const [i, s] of settled.entries()) {
      expect(s.status === 'fulfilled' ? s.value.final?.code : s.status, `client ${i}`).toBe(226);
      expect(sha256(await readFile(path.join(srv.root, `tls-up-${i}.bin`))), `client ${i}`).toBe(sha256(bodies[i] ?? ''));
    }
  });

  it('the server still serves afterwards', async () => {
    await expectServes(srv);
  });
});
