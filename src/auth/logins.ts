// The server's side of a password login: the check on the password pool,
// the failed-login caps (per connection: --max-login-failures; per address,
// over all its connections: --max-login-failures-per-ip), and the count of
// every cap hit. PASS (handlers/auth.ts) turns the verdict into its reply.
import type { Config } from '../config/settings.js';
import type { LimitName } from '../ops/counters.js';
import type { Session } from '../session/session.js';
import { FailedLogins, type FailureExchange } from './failed-logins.js';
import { type CheckResult, PasswordPool, type PoolStats } from './password-pool.js';
import { decoyHash, type PasswordHash } from './password.js';

/**
 * 'ok': the password is right. 'incorrect': wrong (530). The others close the
 * connection with 421: 'connectionCap' and 'addressCap', a wrong password that
 * reached --max-login-failures or --max-login-failures-per-ip; 'addressBlocked',
 * refused unchecked, the address is at its cap; 'busy', refused unchecked, the
 * queue of checks is full; 'stopped', the server is closing (or the client left).
 */
export type LoginVerdict = 'ok' | 'incorrect' | 'connectionCap' | 'addressCap' | 'addressBlocked' | 'busy' | 'stopped';

export interface LoginChecks {
  /**
   * Checks `password` for a login of `session` against `hash` (undefined for
   * an unknown name: the same work, never a match). `wanted` is asked when a
   * thread comes free: false drops the check (its client has gone).
   */
  check(session: Session, password: string, hash: PasswordHash | undefined, wanted: () => boolean): Promise<LoginVerdict>;
}

export class Logins implements LoginChecks {
  private readonly pool: PasswordPool;
  private readonly failures: FailedLogins;
  /** One decoy per server: made without scrypt, so an unknown name costs no work but its check. */
  private readonly decoy = decoyHash();

  constructor(
    private readonly config: Readonly<Config>,
    private readonly count: (limit: LimitName) => void,
    exchange?: FailureExchange,
  ) {
    this.pool = new PasswordPool(config.authThreads, config.authQueue);
    this.failures = new FailedLogins(config.maxLoginFailuresPerIp, config.loginFailureWindow * 1000, exchange);
  }

  async check(session: Session, password: string, hash: PasswordHash | undefined, wanted: () => boolean): Promise<LoginVerdict> {
    const address = session.peer.address;
    if (this.failures.blocked(address, Date.now())) return this.hit('addressBlocked', 'loginFailuresPerIp');
    // A check still waiting when its address reaches the cap is dropped unchecked: a flood from
    // one address costs the pool no more than the checks running when it got there.
    const result: CheckResult = await this.pool.check(password, hash ?? this.decoy, () => wanted() && !this.failures.blocked(address, Date.now()));
    switch (result) {
      case 'match':
        if (hash !== undefined) return 'ok';
        break;
      case 'mismatch':
        break;
      case 'busy':
        return this.hit('busy', 'authQueueFull');
      case 'skipped':
        return this.failures.blocked(address, Date.now()) ? this.hit('addressBlocked', 'loginFailuresPerIp') : 'stopped';
      case 'stopped':
        return 'stopped';
    }
    session.loginFailures += 1;
    if (this.failures.record(address, Date.now())) return this.hit('addressCap', 'loginFailuresPerIp');
    const max = this.config.maxLoginFailures;
    if (max > 0 && session.loginFailures >= max) return this.hit('connectionCap', 'loginFailures');
    return 'incorrect';
  }

  stats(): PoolStats {
    return this.pool.stats();
  }

  /** Forgets failures older than the window (from the server's sweep). */
  prune(now: number): void {
    this.failures.prune(now);
  }

  /** Stops the password threads; checks still waiting answer 'stopped'. */
  close(): Promise<void> {
    this.failures.clear();
    return this.pool.close();
  }

  private hit(verdict: LoginVerdict, limit: LimitName): LoginVerdict {
    this.count(limit);
    return verdict;
  }
}
