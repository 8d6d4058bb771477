// --max-rate throttles all transfers together (split across the worker threads).
import { describe, expect, it } from 'vitest';
import { FtpControl, retrieve } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

const srv = useServer({ maxRate: '512k' });

describe('--max-rate', () => {
  it('two 1 MiB downloads at once share 512 KiB/s: together they take seconds, and arrive whole', async () => {
    const ctls = await Promise.all([0, 1].map(() => FtpControl.login(srv.host, srv.port)));
    try {
      const started = performance.now();
      const got = await Promise.all(ctls.map((ctl) => retrieve(ctl, 'EPSV', srv.files.mib1.path, { timeoutMs: 30_000 })));
      const seconds = (performance.now() - started) / 1000;
      for (const g of got) expect(g.sha256).toBe(srv.files.mib1.sha256);
      // 2 MiB at 512 KiB/s is 4 s; a lower bound only, with a second of burst allowed.
      expect(seconds).toBeGreaterThan(2.5);
    } finally {
      for (const c of ctls) c.destroy();
    }
  });
});
