// A TLS 1.3 control connection outlives OpenSSL: once its handshake is over
// the engine frees the SSL and runs the records itself (docs/tls.md, "After
// the handshake"). Real clients keep one such session busy: Python's ftplib
// with hundreds of commands and transfers, an idle pause, then more; OpenSSL's
// s_client sending KeyUpdates (one asking for ours) between commands; and a
// TLS 1.2 session, which stays with OpenSSL. The switch is counted
// (tls.controlSwitched).
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { missing } from '../helpers/requires.js';
import { authority, describeRun, eventually, python } from './helpers/clients.js';
import { ftplibTls, useFtpsServer } from './helpers/ftps.js';

/**
 * argv: host port version(1.2|1.3) path. One session: 300 commands, 12
 * downloads of `path` and 4 uploads with their checksums, 2.5 s idle, then
 * more commands and a download. Prints one JSON line.
 */
const script = `
import ftplib, hashlib, io, json, os, ssl, sys, time
host, port, version, path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

${ftplibTls}
ftp = Resuming(context=ctx, timeout=15)
ftp.connect(host, port)
ftp.auth()
ftp.login()
ftp.prot_p()
out = {'version': ftp.sock.version(), 'replies': 0, 'downloads': [], 'uploads': []}

def download():
    h = hashlib.sha256()
    ftp.retrbinary('RETR ' + path, h.update, blocksize=65536)
    out['downloads'].append(h.hexdigest())

def commands(n):
    for i in range(n):
        r = ftp.voidcmd('NOOP') if i % 3 == 0 else (ftp.sendcmd('PWD') if i % 3 == 1 else ftp.sendcmd('TYPE I'))
        if r[0] == '2':
            out['replies'] += 1

try:
    for round in range(4):
        commands(75)
        download()
        body = os.urandom(100000 + round * 33333)
        name = '/long-%s-%d.bin' % (version, round)
        ftp.storbinary('STOR ' + name, io.BytesIO(body))
        h = hashlib.sha256()
        ftp.retrbinary('RETR ' + name, h.update)
        out['uploads'].append(h.hexdigest() == hashlib.sha256(body).hexdigest())
        for k in range(2):
            download()
    time.sleep(2.5)
    commands(30)
    download()
    out['quit'] = ftp.quit()
except (*ftplib.all_errors, ssl.SSLError) as e:
    out['error'] = repr(e)
print(json.dumps(out))
`;

interface Out {
  version: string;
  replies: number;
  downloads: string[];
  uploads: boolean[];
  quit?: string;
  error?: string;
}

describe.skipIf(missing('python3'))('a long FTPS session with ftplib', () => {
  const srv = useFtpsServer({ writable: true });

  it.each(['1.3', '1.2'] as const)('TLS %s: 330 commands, 16 transfers and an idle pause over one control connection', async (version) => {
    const before = (await srv.server.stats()).tls.controlSwitched;
    const file = srv.files.mib1;
    const r = await python(script, [srv.host, String(srv.port), version, file.path], 60_000);
    expect(r.code, describeRun(r)).toBe(0);
    const out = JSON.parse(r.stdout.toString()) as Out;
    expect(out.error).toBeUndefined();
    expect(out.version).toBe(`TLSv${version}`);
    expect(out.replies).toBe(330);
    expect(out.downloads).toEqual(Array<string>(13).fill(file.sha256));
    expect(out.uploads).toEqual([true, true, true, true]);
    expect(out.quit).toMatch(/^221/);
    // TLS 1.3 control connections switch (its data connections never do); TLS 1.2 ones stay.
    const switched = (await srv.server.stats()).tls.controlSwitched - before;
    expect(switched).toBe(version === '1.3' ? 1 : 0);
  });
});

describe.skipIf(missing('openssl'))('openssl s_client: KeyUpdates on a switched control connection', () => {
  const srv = useFtpsServer();

  it('K (update requested) and k (not requested) between commands: every reply arrives, and ours comes back', async () => {
    const before = (await srv.server.stats()).tls.controlSwitched;
    // Without -ign_eof, s_client takes K and k from stdin as KeyUpdate commands.
    const child = spawn(
      'openssl',
      ['s_client', '-starttls', 'ftp', '-connect', authority(srv.host, srv.port), '-tls1_3', '-crlf', '-msg', '-servername', 'localhost'],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('latin1')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('latin1')));
    child.stdin.on('error', () => {});
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    const replies = (code: string) => stdout.split('\n').filter((l) => l.startsWith(`${code} `)).length;
    const send = async (line: string, code: string, count: number) => {
      child.stdin.write(`${line}\n`);
      expect(await eventually(() => replies(code) >= count, 10_000), `${line}: stdout\n${stdout}\nstderr\n${stderr}`).toBe(true);
    };
    // s_client takes a whole read of stdin as the command: K alone, and its KEYUPDATE seen, before the next line.
    const keyUpdate = async (letter: 'K' | 'k', count: number) => {
      child.stdin.write(`${letter}\n`);
      expect(await eventually(() => (stderr.match(/KEYUPDATE/g)?.length ?? 0) >= count, 10_000), stderr).toBe(true);
    };
    try {
      expect(await eventually(() => stdout.includes('New, TLSv1.3'), 10_000), stderr).toBe(true);
      await send('USER anonymous', '331', 1);
      await send('PASS ks@example.com', '230', 1);
      await keyUpdate('K', 1);
      await send('NOOP', '200', 1);
      await send('PWD', '257', 1);
      await keyUpdate('k', 2);
      await send('NOOP', '200', 2);
      await keyUpdate('K', 3);
      await send('PWD', '257', 2);
      // Not QUIT: s_client takes a line starting with Q as its own quit command.
      await send('quit', '221', 1);
      child.stdin.end();
      await exited;
    } finally {
      child.kill('SIGKILL');
    }
    expect(stderr.match(/KEYUPDATE/g)?.length, stderr).toBe(3);
    // -msg shows every handshake message: the client's 3 KeyUpdates, and the server's 2 in answer to K.
    expect(stdout.match(/<<< TLS 1\.3, Handshake \[length 0005\], KeyUpdate/g)?.length, stdout).toBe(2);
    expect((await srv.server.stats()).tls.controlSwitched - before).toBe(1);
  });
});
