// Failed logins per client address, over all its connections
// (--max-login-failures-per-ip within --login-failure-window): a sliding
// window, exact, so that no window of that length ever holds more failures
// of one address than the cap. Only checked passwords that were wrong count;
// logins that succeed never do.
//
// Memory: a failure is recorded only after a password check, and a check
// costs a pool thread tens of milliseconds, so the times held are at most
// (checks per second) × (window) in all, whatever the number of addresses;
// prune() drops those that left the window, and addresses with none.
import { ipv4Of } from '../protocol/address.js';

/**
 * How the server processes of --processes share their failures: each one
 * publishes its own, and records those of the others as they arrive (the
 * primary passes them on), so an address's cap counts over all of them.
 */
export interface FailureExchange {
  publish(address: string, at: number): void;
  onFailure(record: (address: string, at: number) => void): void;
}

export class FailedLogins {
  /** Address → times (ms) of its failures still in the window, oldest first. */
  private readonly times = new Map<string, number[]>();

  constructor(
    /** Failures an address may make within the window; 0: no cap. */
    private readonly max: number,
    private readonly windowMs: number,
    private readonly exchange?: FailureExchange,
  ) {
    exchange?.onFailure((address, at) => this.add(address, at));
  }

  /** The address has made its `max` failures within the window: its password logins are refused. */
  blocked(address: string, now: number): boolean {
    if (this.max === 0) return false;
    const key = keyOf(address);
    const times = this.times.get(key);
    if (times === undefined) return false;
    this.dropOld(key, times, now);
    return times.length >= this.max;
  }

  /** Records a failure; true when it is the one that reaches the cap. */
  record(address: string, now: number): boolean {
    if (this.max === 0) return false;
    this.exchange?.publish(address, now);
    return this.add(address, now);
  }

  private add(address: string, at: number): boolean {
    const key = keyOf(address);
    const times = this.times.get(key) ?? [];
    this.dropOld(key, times, at);
    // Another process's failure may arrive after a later one of ours: keep the times in order.
    let i = times.length;
    while (i > 0 && (times[i - 1] ?? 0) > at) i -= 1;
    times.splice(i, 0, at);
    this.times.set(key, times);
    return times.length >= this.max;
  }

  /** Forgets the failures that left the window (the server's sweep calls this). */
  prune(now: number): void {
    for (const [key, times] of this.times) this.dropOld(key, times, now);
  }

  /** Addresses with failures in the window. */
  get addresses(): number {
    return this.times.size;
  }

  clear(): void {
    this.times.clear();
  }

  private dropOld(key: string, times: number[], now: number): void {
    let old = 0;
    while (old < times.length && (times[old] ?? now) <= now - this.windowMs) old += 1;
    if (old > 0) times.splice(0, old);
    if (times.length === 0) this.times.delete(key);
  }
}

/** One key per client: an IPv4-mapped IPv6 address counts as its IPv4 address (as --max-per-ip does). */
function keyOf(address: string): string {
  return ipv4Of(address) ?? address;
}
