// A control connection the probes steer byte by byte: Nagle off, so each
// write leaves as its own TCP segment (a command split at a chosen offset
// with a pause between the halves), or several commands in one write (one
// segment). Replies are framed by probe.ts's ReplyReader. Every wait is
// bounded by the deadline given to it.
import net from 'node:net';
import { type FtpReply, ReplyReader } from '../probe.js';

export class ControlError extends Error {}

export class Control {
  private readonly reader = new ReplyReader();
  private readonly queue: FtpReply[] = [];
  private waiter: ((r: FtpReply | Error) => void) | null = null;
  private failure: Error | null = null;

  private constructor(readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      try {
        for (const r of this.reader.push(d)) this.deliver(r);
      } catch (e) {
        this.fail(e instanceof Error ? e : new Error(String(e)));
      }
    });
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new ControlError('the server closed the control connection')));
  }

  static connect(host: string, port: number, timeoutMs: number): Promise<Control> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host, port });
      const timer = setTimeout(() => {
        sock.destroy();
        reject(new ControlError(`no control connection to ${host}:${port} in ${timeoutMs} ms`));
      }, timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new Control(sock));
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(new ControlError(`control connection to ${host}:${port}: ${e.message}`));
      });
    });
  }

  /** The client's end of the control connection: what a PORT names before any NAT. */
  get localAddress(): string {
    return this.sock.localAddress ?? '';
  }

  /** The server as the client reaches it. */
  get remoteAddress(): string {
    return this.sock.remoteAddress ?? '';
  }

  get ipv6(): boolean {
    return this.sock.remoteFamily === 'IPv6' && !/^::ffff:/i.test(this.remoteAddress);
  }

  private deliver(r: FtpReply): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(r);
    } else this.queue.push(r);
  }

  private fail(e: Error): void {
    if (this.failure === null) this.failure = e;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(this.failure);
    }
  }

  /** The next reply, or a ControlError after `timeoutMs`. */
  reply(timeoutMs: number): Promise<FtpReply> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new ControlError(`no reply in ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = (r) => {
        clearTimeout(timer);
        if (r instanceof Error) reject(r);
        else resolve(r);
      };
    });
  }

  /** Writes raw bytes now (one segment each with Nagle off, when the socket is writable). */
  write(text: string): void {
    this.sock.write(text, 'latin1');
  }

  /** One command and its reply. */
  async cmd(line: string, timeoutMs: number): Promise<FtpReply> {
    this.write(`${line}\r\n`);
    return this.reply(timeoutMs);
  }

  /**
   * `line` + CRLF in two writes: the first `offset` bytes, a pause, the rest.
   * Node writes each at once to the socket, so with Nagle off they leave as two segments.
   */
  async writeSplit(line: string, offset: number, pauseMs: number): Promise<void> {
    const text = `${line}\r\n`;
    const at = Math.max(1, Math.min(offset, text.length - 1));
    this.write(text.slice(0, at));
    await sleep(pauseMs);
    this.write(text.slice(at));
  }

  close(): void {
    this.sock.destroy();
  }

  /** QUIT, then close whatever the answer. */
  async quit(timeoutMs: number): Promise<void> {
    try {
      if (this.failure === null) await this.cmd('QUIT', timeoutMs);
    } catch {
      // Closing anyway.
    } finally {
      this.close();
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export function replyText(r: FtpReply): string {
  return r.lines.join(' | ');
}
