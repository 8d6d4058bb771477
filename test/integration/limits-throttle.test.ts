// --max-rate-per-client throttles each transfer in the native copy loop, and
// a transfer stops the --idle-timeout clock: a download that takes longer
// than the idle timeout completes, and the session goes on.
import { afterEach, describe, expect, it } from 'vitest';
import { FtpControl, retrieve } from './helpers/clients.js';
import { expectServes, useServer } from './helpers/server.js';

const rate = 256 * 1024;
const srv = useServer({ maxRatePerClient: rate, idleTimeout: 1 });
const opened: FtpControl[] = [];

afterEach(() => {
  for (const c of opened.splice(0)) c.destroy();
});

describe('--max-rate-per-client and --idle-timeout', () => {
  it('a 1 MiB download at 256 KiB/s takes seconds, outlives the 1 s idle timeout, and arrives whole', async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    opened.push(ctl);
    const started = performance.now();
    const got = await retrieve(ctl, 'EPSV', srv.files.mib1.path);
    const seconds = (performance.now() - started) / 1000;
    expect(got.final?.code).toBe(226);
    expect(got.sha256).toBe(srv.files.mib1.sha256);
    // A lower bound only (a slow machine is slower, never faster): 4 s nominal, one second of burst allowed.
    expect(seconds).toBeGreaterThan(2.5);
    expect((await ctl.cmd('NOOP')).code).toBe(200);
    expect((await srv.server.stats()).limits.idleTimeout).toBe(0);
  });

  it('the server still serves', async () => {
    await expectServes(srv);
  });
});
