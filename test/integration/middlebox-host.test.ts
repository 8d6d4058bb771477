// HOST (RFC 7151): before the login, the server's own addresses, names that
// resolve to them and --host-names get 220; other names 504; after the login
// 503. No name here leaves the machine: IP literals and names /etc/hosts or
// the setting answer.
import { describe, expect, it } from 'vitest';
import { FtpControl } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

describe('HOST', () => {
  const t = useServer({ hostNames: 'ftp.example.test,Files.Example.Test' });

  it('accepts its own addresses, localhost and the listed names before the login', async () => {
    const ctl = await FtpControl.connect(t.host, t.port);
    try {
      for (const name of ['127.0.0.1', '[127.0.0.1]', 'localhost', 'ftp.example.test', 'FILES.example.test']) {
        const r = await ctl.cmd(`HOST ${name}`);
        expect(r.code, `HOST ${name}: ${r.lines.join(' / ')}`).toBe(220);
      }
      await ctl.expect('USER anonymous', 331);
      await ctl.expect('PASS x@example.com', 230);
    } finally {
      ctl.destroy();
    }
  });

  it('refuses other names with 504, a missing one with 501, and any after the login with 503', async () => {
    const ctl = await FtpControl.connect(t.host, t.port);
    try {
      expect((await ctl.cmd('HOST 192.0.2.1')).code).toBe(504);
      expect((await ctl.cmd('HOST [2001:db8::1]')).code).toBe(504);
      expect((await ctl.cmd('HOST not_a/host!')).code).toBe(504);
      expect((await ctl.cmd('HOST')).code).toBe(501);
      await ctl.expect('USER anonymous', 331);
      await ctl.expect('PASS x@example.com', 230);
      expect((await ctl.cmd('HOST 127.0.0.1')).code).toBe(503);
    } finally {
      ctl.destroy();
    }
  });

  it('forgets a pending USER: the login starts anew for that host', async () => {
    const ctl = await FtpControl.connect(t.host, t.port);
    try {
      await ctl.expect('USER anonymous', 331);
      await ctl.expect('HOST 127.0.0.1', 220);
      expect((await ctl.cmd('PASS x@example.com')).code).toBe(503);
      await ctl.expect('USER anonymous', 331);
      await ctl.expect('PASS x@example.com', 230);
    } finally {
      ctl.destroy();
    }
  });

  it('is listed in FEAT', async () => {
    const ctl = await FtpControl.connect(t.host, t.port);
    try {
      const r = await ctl.cmd('FEAT');
      expect(r.lines.map((l) => l.trim())).toContain('HOST');
    } finally {
      ctl.destroy();
    }
  });
});
