// A tiny control-connection client for set-up work before a run: learn the
// size of the file to download (SIZE) so that every download can be checked.
// The load itself never goes through here (see ftpload.cc).

import net from 'node:net';

export interface FtpReply {
  code: number;
  lines: string[];
}

/**
 * Frames replies from a byte stream split anywhere: CRLF or bare LF line ends,
 * multi-line replies ("123-" ... "123 ") per RFC 959 4.2.
 */
export class ReplyReader {
  private buf = '';
  private pending: string[] = [];
  private code = 0;

  /** Feeds bytes; returns the replies completed by them. */
  push(chunk: string): FtpReply[] {
    this.buf += chunk;
    const out: FtpReply[] = [];
    for (;;) {
      const nl = this.buf.indexOf('\n');
      if (nl < 0) break;
      let line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      const m = /^(\d{3})([ -]|$)/.exec(line);
      if (this.code !== 0) {
        this.pending.push(line);
        if (m && Number(m[1]) === this.code && m[2] !== '-') {
          out.push({ code: this.code, lines: this.pending });
          this.pending = [];
          this.code = 0;
        }
        continue;
      }
      if (!m) throw new Error(`MUXFTPD_ERR_BAD_REPLY: not an FTP reply: ${JSON.stringify(line)}`);
      if (m[2] === '-') {
        this.code = Number(m[1]);
        this.pending = [line];
      } else {
        out.push({ code: Number(m[1]), lines: [line] });
      }
    }
    return out;
  }
}

/** Parses "213 12345" into 12345. */
export function parseSizeReply(r: FtpReply): number | null {
  if (r.code !== 213) return null;
  const m = /^213 (\d+)\s*$/.exec(r.lines[r.lines.length - 1] ?? '');
  return m ? Number(m[1]) : null;
}

/** Logs in, asks TYPE I and SIZE, quits. Resolves null when the server cannot tell. */
export async function probeSize(
  host: string,
  port: number,
  user: string,
  pass: string,
  file: string,
  timeoutMs = 10_000,
): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const reader = new ReplyReader();
    const queue: FtpReply[] = [];
    let waiter: ((r: FtpReply) => void) | null = null;
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`MUXFTPD_ERR_PROBE_TIMEOUT: no answer from ${host}:${port}`));
    }, timeoutMs);
    const next = (): Promise<FtpReply> =>
      new Promise((res) => {
        const r = queue.shift();
        if (r) res(r);
        else waiter = res;
      });
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      try {
        for (const r of reader.push(d)) {
          if (waiter) {
            const w = waiter;
            waiter = null;
            w(r);
          } else queue.push(r);
        }
      } catch (e) {
        sock.destroy();
        reject(e);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    const send = async (cmd: string): Promise<FtpReply> => {
      sock.write(`${cmd}\r\n`);
      return next();
    };
    void (async () => {
      const hello = await next();
      if (hello.code !== 220) throw new Error(`greeting ${hello.code}`);
      let r = await send(`USER ${user}`);
      if (r.code === 331) r = await send(`PASS ${pass}`);
      if (r.code !== 230 && r.code !== 202) throw new Error(`login refused: ${r.lines.join(' ')}`);
      await send('TYPE I');
      const size = parseSizeReply(await send(`SIZE ${file}`));
      sock.write('QUIT\r\n');
      sock.end();
      clearTimeout(timer);
      resolve(size);
    })().catch((e: unknown) => {
      clearTimeout(timer);
      sock.destroy();
      reject(e instanceof Error ? e : new Error(String(e)));
    });
  });
}
