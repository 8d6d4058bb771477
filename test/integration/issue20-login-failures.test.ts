// Issue 20, item 3: failed logins are capped per client address, over all its
// connections (--max-login-failures-per-ip within --login-failure-window).
// The failure that reaches the cap gets 421 and a close; so does the next
// password login from that address, even with the right password, unchecked.
// Anonymous logins and other addresses go on; every 421 is counted in stats()
// and at --metrics-port.
import { afterAll, describe, expect, it } from 'vitest';
import { atPassword, writeUsersFile } from './helpers/accounts.js';
import { canListen, FtpControl } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

const cap = 3;
const users = await writeUsersFile([{ name: 'carol', password: 'carol pw' }]);
// On '::' when there is IPv6: IPv4 clients then arrive as ::ffff:127.0.0.1, and ::1 is another address.
const ipv6 = await canListen('::1');
const srv = useServer(
  // The window outlasts the file: nothing leaves it while the tests run.
  { users: users.path, loginFailDelay: 0, maxLoginFailures: 0, maxLoginFailuresPerIp: cap, loginFailureWindow: 3600, metricsPort: 0 },
  '127.0.0.1',
  ipv6 ? { bind: '::' } : {},
);

afterAll(() => users.remove());

async function pass(host: string, password: string): Promise<{ code: number; closed: boolean }> {
  const ctl = await atPassword(host, srv.port, 'carol');
  try {
    const r = await ctl.cmd(`PASS ${password}`);
    if (r.code !== 421) return { code: r.code, closed: false };
    await ctl.waitClosed();
    return { code: r.code, closed: true };
  } finally {
    ctl.destroy();
  }
}

async function metric(series: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${srv.server.metrics?.port}/metrics`)).text();
  return Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
}

describe('failed logins per address', () => {
  it('closes the failure that reaches the cap and the next password login, across connections; counts both', async () => {
    expect(await pass('127.0.0.1', 'carol pw')).toEqual({ code: 230, closed: false });
    const failures = [];
    for (let i = 0; i < cap; i++) failures.push(await pass('127.0.0.1', `wrong ${i}`));
    expect(failures).toEqual([
      { code: 530, closed: false },
      { code: 530, closed: false },
      { code: 421, closed: true },
    ]);
    // The right password is not even checked now.
    expect(await pass('127.0.0.1', 'carol pw')).toEqual({ code: 421, closed: true });
    expect((await srv.server.stats()).limits).toMatchObject({ loginFailuresPerIp: 2, loginFailures: 0, authQueueFull: 0 });
    expect(await metric('muxftpd_limits_total{limit="loginFailuresPerIp"}')).toBe(2);
    expect(await metric('muxftpd_password_checks{state="waiting"}')).toBe(0);
  });

  it('lets the same address log in anonymously: no password is checked', async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    try {
      await ctl.expect('PWD', 257);
    } finally {
      ctl.destroy();
    }
  });

  it.runIf(ipv6)('lets another address log in with the right password', async () => {
    expect(await pass('::1', 'carol pw')).toEqual({ code: 230, closed: false });
    expect((await srv.server.stats()).limits.loginFailuresPerIp).toBe(2);
  });
});
