// What a server tells about its sessions: one log line per session start,
// login, transfer (path, bytes, duration, rate) and end; the xferlog line of
// each file transfer; and the counters behind stats() and the metrics.
import type { SessionId } from '../engine/engine.js';
import { type Logger, logLevels } from '../log.js';
import type { Session } from '../session/session.js';
import type { Counters } from './counters.js';
import type { TransferObserver, TransferRecord } from './observe.js';
import type { TransferLog } from './xferlog.js';

export class Reporter implements TransferObserver {
  /** Whether info lines are written: below that level their fields are not even built (thousands of transfers a second). */
  private readonly detailed: boolean;

  constructor(
    private readonly log: Logger,
    private readonly counters: Counters,
    private readonly sessionOf: (sid: SessionId) => Session | undefined,
    private readonly xferlog: TransferLog | undefined,
  ) {
    this.detailed = logLevels.indexOf(log.level) >= logLevels.indexOf('info');
  }

  sessionStart(s: Session): void {
    this.counters.sessionsTotal += 1;
    if (this.detailed) this.log.info('session start', { sid: s.sid, peer: s.peer.address, port: s.peer.port });
  }

  login(s: Session): void {
    if (this.detailed) this.log.info('login', { sid: s.sid, user: s.user });
  }

  sessionEnd(s: Session, reason: string, openedAt: number): void {
    if (this.detailed) this.log.info('session end', { sid: s.sid, reason, ms: Date.now() - openedAt });
  }

  started(): void {
    this.counters.transferStarted();
  }

  refused(): void {
    this.counters.transferRefused();
  }

  ended(r: TransferRecord): void {
    const result = this.counters.transferEnded(r.kind, r.result);
    if (!this.detailed && this.xferlog === undefined) return;
    const ms = performance.now() - r.startedMs;
    const s = this.sessionOf(r.sid);
    const path = r.rel === null ? null : r.rel === '.' ? '/' : `/${r.rel}`;
    const bytes = r.result.bytes;
    const rate = ms > 0 ? Math.round((bytes * 1000) / ms) : bytes;
    if (this.detailed) this.log.info('transfer', {
      sid: r.sid,
      user: s?.user ?? null,
      peer: s?.peer.address ?? null,
      kind: r.kind,
      path,
      offset: r.offset,
      bytes,
      ms: Math.round(ms),
      rate,
      result,
    });
    if (this.xferlog === undefined || path === null || s === undefined) return;
    this.xferlog.write({
      end: new Date(),
      seconds: ms / 1000,
      host: s.peer.address,
      bytes,
      path,
      binary: s.type === 'I',
      direction: r.kind === 'upload' ? 'i' : 'o',
      anonymous: s.home === '/',
      user: s.user ?? '',
      complete: result === 'ok',
    });
  }
}
