// The data side of a probe: a listener on the client's own address for
// active mode (the address a PORT names before any NAT), a connect for
// passive mode; either collects the bytes until the server closes, with a
// deadline. Who connected (active) is recorded: the data peer.
import { createHash } from 'node:crypto';
import net from 'node:net';

export interface Received {
  bytes: number;
  sha256: string;
  /** The far end as this client sees it. */
  peer: { host: string; port: number };
}

/** Reads a data connection to its end (or rejects at the deadline / on error). */
function drain(sock: net.Socket, timeoutMs: number): Promise<Received> {
  return new Promise((resolve, reject) => {
    const hash = createHash('sha256');
    let bytes = 0;
    const peer = { host: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`data connection not finished in ${timeoutMs} ms (${bytes} bytes so far)`));
    }, timeoutMs);
    sock.on('data', (d: Buffer) => {
      bytes += d.length;
      hash.update(d);
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    sock.once('end', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ bytes, sha256: hash.digest('hex'), peer });
    });
  });
}

/** An active-mode listener: port 0 on `host`, one connection accepted at most. */
export class ActiveListener {
  private accepted: net.Socket | null = null;
  private arrived: Promise<net.Socket>;
  private readonly connections: Array<{ host: string; port: number }> = [];
  /** Ends a receive() still waiting for a connection (close() calls it). */
  private cancel: (() => void) | null = null;

  private constructor(private readonly server: net.Server) {
    this.arrived = new Promise((resolve) => {
      server.on('connection', (sock) => {
        this.connections.push({ host: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 });
        if (this.accepted) {
          sock.destroy();
          return;
        }
        this.accepted = sock;
        sock.pause();
        resolve(sock);
      });
    });
  }

  static open(host: string): Promise<ActiveListener> {
    return new Promise((resolve, reject) => {
      const server = net.createServer({ pauseOnConnect: true });
      server.once('error', reject);
      server.listen({ host, port: 0, exclusive: true }, () => {
        server.removeListener('error', reject);
        resolve(new ActiveListener(server));
      });
    });
  }

  get endpoint(): { host: string; port: number } {
    const a = this.server.address() as net.AddressInfo;
    return { host: a.address, port: a.port };
  }

  /** Whether anyone connected so far. */
  get connected(): boolean {
    return this.connections.length > 0;
  }

  /** Who connected first, or null. */
  get firstPeer(): string | null {
    return this.connections[0]?.host ?? null;
  }

  /** The first connection's bytes; rejects when none arrives in `timeoutMs` or it does not end. */
  async receive(timeoutMs: number): Promise<Received> {
    let timer: NodeJS.Timeout | undefined;
    const none = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new NoConnection(`no data connection in ${timeoutMs} ms`)), timeoutMs);
      this.cancel = () => reject(new NoConnection('the listener was closed'));
    });
    try {
      const sock = await Promise.race([this.arrived, none]);
      clearTimeout(timer);
      this.cancel = null;
      sock.resume();
      return await drain(sock, timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.cancel?.();
    this.cancel = null;
    this.accepted?.destroy();
    this.server.close();
  }
}

export class NoConnection extends Error {}

/** Passive mode: connects to host:port and reads to the end; the socket is handed out at connect. */
export function connectData(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<{ sock: net.Socket; local: { host: string; port: number } }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    sock.pause();
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`data connect to ${host}:${port} not done in ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      resolve({ sock, local: { host: sock.localAddress ?? '', port: sock.localPort ?? 0 } });
    });
    sock.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`data connect to ${host}:${port}: ${e.message}`));
    });
  });
}

export function receiveFrom(sock: net.Socket, timeoutMs: number): Promise<Received> {
  const p = drain(sock, timeoutMs);
  sock.resume();
  return p;
}
