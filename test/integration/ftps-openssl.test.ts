// openssl s_client -starttls ftp: OpenSSL's own FTPS client does AUTH TLS
// and the handshake (TLS 1.2 and 1.3), then a login over the protected
// control connection is answered, up to QUIT's 221.
import { describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { authority, describeRun, run } from './helpers/clients.js';
import { useFtpsServer } from './helpers/ftps.js';

const srv = useFtpsServer();

describe.skipIf(missing('openssl'))('openssl s_client -starttls ftp', () => {
  it.each([
    ['TLS 1.2', '-tls1_2', 'TLSv1.2'],
    ['TLS 1.3', '-tls1_3', 'TLSv1.3'],
  ])('%s: the handshake, then USER, PASS, PWD and QUIT over TLS', async (_name, flag, version) => {
    const input = 'USER anonymous\nPASS openssl@example.com\nPWD\nQUIT\n';
    // -ign_eof: keep reading after stdin ends, until the server closes after 221.
    const r = await run(
      'openssl',
      ['s_client', '-starttls', 'ftp', '-connect', authority(srv.host, srv.port), flag, '-crlf', '-ign_eof', '-servername', 'localhost'],
      { input, timeoutMs: 20_000 },
    );
    const out = r.stdout.toString();
    expect(r.code, `${describeRun(r)}\nstdout:\n${out}`).toBe(0);
    expect(out).toContain(`New, ${version}, Cipher is`);
    // ECDSA P-256, as --tls-cert auto makes it.
    expect(out).toMatch(/Server public key is 256 bit/);
    expect(out).toMatch(/^331 /m);
    expect(out).toMatch(/^230 /m);
    expect(out).toMatch(/^257 "\/"/m);
    expect(out).toMatch(/^221 /m);
  });
});
