// --start-at: every host of a fan-out (ssh, Ansible, a Kubernetes Indexed
// Job) is given the same wall-clock time and starts its load then, so their
// windows overlap and `muxftpd-bench merge` can add them up. The clock is
// each host's own CLOCK_REALTIME (Date.now()): they must agree (NTP or
// chrony keep them within milliseconds; `chronyc tracking` shows the offset).
// A report records when its load started (startedAt), and merge shows how far
// apart the runs began.

/** The latest a start may lie ahead: a time in milliseconds instead of seconds is a mistake, not a plan. */
export const maxStartAheadS = 24 * 3600;

/** Milliseconds to wait from `nowMs` until `startAtS` (unix seconds); 0 when it has passed. */
export function msUntil(startAtS: number, nowMs: number): number {
  return Math.max(0, startAtS * 1000 - nowMs);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });
}

/**
 * Sleeps until `startAtS` (unix seconds, fractions allowed), never returning
 * before it (a timer may fire up to a millisecond early: it sleeps again) unless
 * `signal` aborts; returns how late the start is, in seconds (0 when on time; a
 * host that got its command after the time starts at once and says so).
 */
export async function waitUntil(startAtS: number, signal?: AbortSignal): Promise<number> {
  // Bounded: each turn sleeps what is left, at least 1 ms, and the clock moves on.
  for (let wait = msUntil(startAtS, Date.now()); wait > 0 && !signal?.aborted; wait = msUntil(startAtS, Date.now())) {
    await sleep(Math.max(1, Math.ceil(wait)), signal);
  }
  return Math.max(0, Date.now() / 1000 - startAtS);
}
