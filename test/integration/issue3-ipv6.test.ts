// IPv6 with real clients on ::1: curl downloads in EPSV and in EPRT (|2|)
// mode, and uploads; PASV on an IPv6 control connection is refused with 522.
// On IPv4, --pasv-address given as a host name is announced resolved.
// Skipped where the host has no IPv6 loopback.
import { describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { canListen, curl, describeRun, FtpControl, sha256 } from './helpers/clients.js';
import { useServer } from './helpers/server.js';

const ipv6 = await canListen('::1');

const noCurl = missing('curl');

describe.skipIf(!ipv6)('IPv6 on ::1', () => {
  const srv = useServer({ writable: true }, '::1');

  /** Commands curl sent, from its -v log. */
  const sent = (stderr: string) => [...stderr.matchAll(/^> ([A-Z]+)/gm)].map((m) => m[1]);

  it.skipIf(noCurl).each([
    ['EPSV', []],
    ['EPRT', ['-P', '::1']],
  ])('curl downloads 5 MiB in %s mode', async (verb, flags) => {
    const r = await curl(['-v', '-g', ...flags, srv.url(srv.files.mib5.path)]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(sha256(r.stdout)).toBe(srv.files.mib5.sha256);
    expect(sent(r.stderr)).toContain(verb);
  });

  it.skipIf(noCurl)('curl uploads over EPSV', async () => {
    const body = Buffer.alloc(200_000, 7);
    const r = await curl(['-g', '-T', '-', srv.url('/v6-upload.bin')], 25_000, body);
    expect(r.code, describeRun(r)).toBe(0);
    const back = await curl(['-g', srv.url('/v6-upload.bin')]);
    expect(sha256(back.stdout)).toBe(sha256(body));
  });

  it('PASV gets 522 (EPSV is the IPv6 way), and the session goes on', async () => {
    const ctl = await FtpControl.login(srv.host, srv.port);
    try {
      expect((await ctl.cmd('PASV')).code).toBe(522);
      expect((await ctl.cmd('EPSV')).code).toBe(229);
    } finally {
      ctl.destroy();
    }
  });
});

describe.skipIf(noCurl)('--pasv-address as a host name', () => {
  const srv = useServer({ pasvAddress: 'localhost' });

  it('is resolved at start and announced in PASV', async () => {
    expect(srv.server.config.pasvAddress).toBe('127.0.0.1');
    const r = await curl(['--disable-epsv', '--no-ftp-skip-pasv-ip', srv.url(srv.files.hello.path)]);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout.equals(srv.files.hello.data)).toBe(true);
  });
});
