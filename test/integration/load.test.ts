// 500 clients at once, each downloading a 1 MiB file: every checksum right.
// All 500 log in and set up their data connection first, then all send RETR
// together, so that the transfers really overlap. The data modes are mixed so
// that passive listeners and active connects are exercised under load too.
import { describe, expect, it } from 'vitest';
import { allAtOnce } from './helpers/at-once.js';
import { expectServes, useServer } from './helpers/server.js';

const clients = 500;
const srv = useServer({ threads: 2 });

interface Outcome {
  prelim: number;
  final: number;
  bytes: number;
  sha256: string;
  quit: number;
}

describe(`${clients} clients at once`, () => {
  it(`each downloads 1 MiB with the right checksum`, { timeout: 180_000 }, async () => {
    const file = srv.files.mib1;
    const settled = await allAtOnce(srv.host, srv.port, clients, async (ctl, channel): Promise<Outcome> => {
      const prelim = await ctl.cmd(`RETR ${file.path}`, 60_000);
      if (prelim.code !== 150) return { prelim: prelim.code, final: 0, bytes: 0, sha256: '', quit: 0 };
      const [final, data] = await Promise.all([ctl.reply(60_000), channel.result(60_000)]);
      const quit = await ctl.cmd('QUIT', 60_000);
      return { prelim: prelim.code, final: final.code, bytes: data.bytes, sha256: data.sha256, quit: quit.code };
    });
    const failures = settled.flatMap((s, i) => (s.status === 'rejected' ? [`client ${i}: ${String(s.reason)}`] : []));
    expect(failures.slice(0, 10), `${failures.length} clients failed`).toEqual([]);
    const outcomes = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    const wrong = outcomes.filter(
      (o) => o.prelim !== 150 || o.final !== 226 || o.bytes !== file.size || o.sha256 !== file.sha256 || o.quit !== 221,
    );
    expect(wrong.slice(0, 5), `${wrong.length} of ${clients} downloads wrong`).toEqual([]);
    expect(outcomes).toHaveLength(clients);
  });

  it('the server still serves afterwards', async () => {
    await expectServes(srv);
  });
});
