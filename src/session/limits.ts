// The per-connection limits enforced in TypeScript: the login and idle
// timeouts (one sweep a second over every session, not a timer per session).
// Each answers 421, closes the connection, and is counted. (The failed-login
// cap lives with PASS, in handlers/auth.ts; --max-clients and --max-per-ip
// are the engine's, counted over all server processes in its client ledger.)
import type { Config } from '../config/settings.js';
import type { Counters, LimitName } from '../ops/counters.js';
import { closingReply, Code, type Reply } from '../protocol/replies.js';
import type { Connection } from './connection.js';

const closing = (text: string): Reply => closingReply(Code.ServiceNotAvailable, text);

export const limitReplies = {
  /** The engine sends these two itself, then closes, past --max-clients and --max-per-ip (no JS round trip). */
  maxClients: '421 Too many connections; try again later.\r\n',
  maxPerIp: '421 Too many connections from your address; try again later.\r\n',
  loginTimeout: closing('Login timeout: closing control connection.'),
  idleTimeout: closing('Timeout: no command for too long; closing control connection.'),
} as const;

export class Limits {
  constructor(
    private readonly config: Readonly<Config>,
    private readonly counters: Counters,
  ) {}

  /**
   * Closes the connections past the login timeout (counted from the open)
   * or the idle timeout (since the last line). A transfer, or commands still
   * running or waiting (a pipelining client whose socket is paused sends no
   * line meanwhile), stop the idle clock: the client waits for the server.
   */
  sweep(connections: Iterable<Connection>, now: number): void {
    const { loginTimeout, idleTimeout } = this.config;
    for (const c of connections) {
      if (c.isClosed) continue;
      const s = c.session;
      if (!s.loggedIn) {
        if (loginTimeout > 0 && now - c.openedAt >= loginTimeout * 1000) this.close(c, 'loginTimeout');
      } else if (s.transferring || c.busy) {
        c.lastActive = now;
        c.waitedOnServer = true;
      } else if (c.waitedOnServer) {
        // Its transfer or commands ended since the last sweep: the idle clock
        // starts now, not at the sweep before they ended (up to a second ago).
        c.waitedOnServer = false;
        c.lastActive = now;
      } else if (idleTimeout > 0 && now - c.lastActive >= idleTimeout * 1000) {
        this.close(c, 'idleTimeout');
      }
    }
  }

  private close(c: Connection, limit: LimitName & keyof typeof limitReplies): void {
    this.counters.limit(limit);
    c.send(limitReplies[limit] as Reply);
  }
}
