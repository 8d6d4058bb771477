// What the primary of --processes divides and sums: the passive range cut in
// slices, the server processes' stats added up.
import { describe, expect, it } from 'vitest';
import { mergeStats } from '../../src/cluster/merge-stats.js';
import { pasvSlices } from '../../src/cluster/shares.js';
import { defaultProcesses, defaultThreads } from '../../src/config/settings.js';
import type { ServerStats } from '../../src/server.js';

describe('pasvSlices', () => {
  it('cuts a range in contiguous slices that cover it, the first ones a port larger', () => {
    expect(pasvSlices({ min: 50000, max: 50010 }, 3)).toEqual([
      { min: 50000, max: 50003 },
      { min: 50004, max: 50007 },
      { min: 50008, max: 50010 },
    ]);
    expect(pasvSlices({ min: 50000, max: 50001 }, 2)).toEqual([
      { min: 50000, max: 50000 },
      { min: 50001, max: 50001 },
    ]);
  });

  it('leaves no range as none, and refuses fewer ports than processes', () => {
    expect(pasvSlices(null, 2)).toEqual([null, null]);
    expect(() => pasvSlices({ min: 50000, max: 50002 }, 4)).toThrow(/MUXFTPD_ERR_BAD_PASV_PORTS/);
  });
});

describe('mergeStats', () => {
  const one = (sessions: number, perWorker: number[], fdLimit: number, pass: number | undefined): ServerStats =>
    ({
      sessions,
      perWorker,
      loops: perWorker.map(() => ({ iterations: 1, batches: 1, events: 2 })),
      accepted: sessions,
      rejected: 0,
      fdLimit,
      sessionsTotal: sessions,
      loopFailures: 0,
      commands: pass === undefined ? {} : { PASS: pass },
      bytesOut: 10,
      bytesIn: 0,
      transfers: { ok: 1, aborted: 0, peerClosed: 0, noConnection: 0, timeout: 0, error: 0 },
      transfersRunning: 0,
      limits: { maxClients: 1 },
      dataAddresses: { activeAsSeen: sessions, passiveForeignRefused: 1 },
      passwordChecks: { running: 1, waiting: 2 },
    }) as unknown as ServerStats;

  it('adds counts, lays per-worker lists end to end, keeps verbs seen in one process only, and the smallest fd limit', () => {
    const sum = mergeStats([one(2, [1, 1], 20000, 3), one(5, [5], 1024, undefined)]);
    expect(sum).toMatchObject({
      sessions: 7,
      perWorker: [1, 1, 5],
      accepted: 7,
      fdLimit: 1024,
      commands: { PASS: 3 },
      bytesOut: 20,
      transfers: { ok: 2 },
      limits: { maxClients: 2 },
      dataAddresses: { activeAsSeen: 7, passiveForeignRefused: 2 },
      passwordChecks: { running: 2, waiting: 4 },
    });
    expect(sum?.loops).toHaveLength(3);
  });

  it('has nothing to sum without a process', () => {
    expect(mergeStats([])).toBeUndefined();
  });
});

describe('the default share of the CPUs', () => {
  it('is one process up to 2 CPUs, then CPUs ÷ 4 rounded up, with the CPUs shared out as threads', () => {
    expect([1, 2, 3, 4, 8, 16, 64].map(defaultProcesses)).toEqual([1, 1, 1, 1, 2, 4, 16]);
    expect(defaultThreads(16, 4)).toBe(4);
    expect(defaultThreads(2, 1)).toBe(2);
    expect(defaultThreads(3, 8)).toBe(1);
  });
});
