// The ALG probes of issue 24, each in active and in passive mode: how the
// command goes out (segments, case, pipelining, repetition, pauses, a third
// party's address in place of the client's), and what a correct middlebox
// does with it. A probe runs in a session of its own, so one that breaks its
// control connection harms no other.
import net from 'node:net';
import type { FtpReply } from '../probe.js';
import type { ActiveListener } from './data.js';
import { sameHost } from './endpoints.js';
import { ProbeSession, type SessionOptions } from './session.js';
import {
  type DataMode,
  judgeActive,
  judgePassive,
  judgeProbe,
  judgeThirdParty,
  type RoundVerdict,
  skipped,
  type Verdict,
} from './verdict.js';

export interface ProbeSettings {
  port: number;
  /** A second control port of the same server, one the middlebox's helper does not watch. */
  unwatchedPort?: number | undefined;
  /** split: the byte of the command line where the second segment starts. */
  splitAt: number;
  /** split: the pause between the two segments. */
  splitPauseMs: number;
  /** pause: the time between PORT/PASV and the transfer. */
  pauseMs: number;
  /** rounds: PORT/PASV + transfer rounds on one session. */
  rounds: number;
  /** third-party: the address a PORT/EPRT names instead of the client's own (--probe-address). */
  probeAddress?: string | undefined;
}

interface ProbeDef {
  name: string;
  /** What a correct middlebox does, per mode. */
  correct: (s: ProbeSettings) => Record<DataMode, string>;
  /** Why it cannot run here, or null. */
  skip?: (s: ProbeSettings, ipv6: boolean, mode: DataMode) => string | null;
  /** Runs it: the rounds' verdicts, or why it cannot run once the session shows its addresses. */
  run: (p: ProbeSession, mode: DataMode, s: ProbeSettings) => Promise<RoundVerdict[] | { skip: string }>;
  /** The control port it uses (default: settings.port). */
  port?: (s: ProbeSettings) => number | undefined;
}

/** Sends PORT/EPRT with its argument, the way the probe wants it on the wire. */
type Sender = (p: ProbeSession, line: string) => Promise<FtpReply>;

const timeout = (p: ProbeSession): number => p.timeoutMs;
const plain: Sender = (p, line) => p.ctl.cmd(line, timeout(p));

/**
 * One active round: a listener on our own address, `verb` and its argument
 * sent by `send`, the transfer. `verb` defaults to the session's (PORT on
 * IPv4, EPRT on IPv6); its case is kept.
 */
async function active(p: ProbeSession, send: Sender = plain, verb: string = p.activeVerb, pauseMs = 0): Promise<RoundVerdict> {
  const l = await p.listen();
  const { obs, refused } = await p.activeRound(l, () => send(p, `${verb} ${p.portArg(l, verb)}`), [], pauseMs);
  return judgeActive(p.view, obs, refused);
}

/** One passive round: the command sent by `send` (default: the session's PASV or EPSV), the transfer. */
async function passive(p: ProbeSession, send: Sender = plain, verb: string = p.passiveVerb, pauseMs = 0): Promise<RoundVerdict> {
  return judgePassive(p.view, await p.passiveRound(() => send(p, verb), pauseMs));
}

/** The basic round of either mode. */
const basic = (p: ProbeSession, mode: DataMode): Promise<RoundVerdict> => (mode === 'active' ? active(p) : passive(p));

export const probes: readonly ProbeDef[] = [
  {
    name: 'basic',
    correct: () => ({
      active: 'PORT rewritten to the address the server sees; the server\'s data connection let in',
      passive: 'PASV passed; the data connection let through',
    }),
    run: async (p, mode) => [await basic(p, mode)],
  },
  {
    name: 'split',
    correct: (s) => ({
      active: `PORT in two TCP segments (byte ${s.splitAt}, ${s.splitPauseMs} ms apart) rewritten like a whole one`,
      passive: `PASV in two TCP segments (byte ${Math.min(s.splitAt, 3)}) passed`,
    }),
    run: async (p, mode, s) => {
      const split = (at: number): Sender => async (q, line) => {
        await q.ctl.writeSplit(line, at, s.splitPauseMs);
        return q.ctl.reply(timeout(q));
      };
      return [mode === 'active' ? await active(p, split(s.splitAt)) : await passive(p, split(Math.min(s.splitAt, 3)))];
    },
  },
  {
    name: 'pipelined',
    correct: () => ({
      active: '"TYPE I\\r\\nPORT …" in one segment: the PORT on the second line rewritten',
      passive: '"TYPE I\\r\\nPASV" in one segment passed',
    }),
    run: async (p, mode) => {
      const afterType: Sender = async (q, line) => {
        q.ctl.write(`TYPE I\r\n${line}\r\n`);
        const t = await q.ctl.reply(timeout(q));
        if (t.code !== 200) return t;
        return q.ctl.reply(timeout(q));
      };
      return [mode === 'active' ? await active(p, afterType) : await passive(p, afterType)];
    },
  },
  {
    name: 'lowercase',
    correct: () => ({
      active: '"port …" in lower case rewritten (verbs are case-insensitive, RFC 959 5.3)',
      passive: '"pasv" in lower case passed',
    }),
    run: async (p, mode) => [
      mode === 'active' ? await active(p, plain, p.activeVerb.toLowerCase()) : await passive(p, plain, p.passiveVerb.toLowerCase()),
    ],
  },
  {
    name: 'rounds',
    correct: (s) => ({
      active: `${s.rounds} PORT+transfer rounds on one session, each rewritten; a rewrite that changes the line's length kept in step by sequence adjustment`,
      passive: `${s.rounds} PASV+transfer rounds on one session passed`,
    }),
    run: async (p, mode, s) => {
      const out: RoundVerdict[] = [];
      for (let i = 0; i < s.rounds; i++) {
        const r = await basic(p, mode);
        out.push(r);
        if (!r.ok) break;
      }
      return out;
    },
  },
  {
    name: 'second-command',
    correct: () => ({
      active: 'two PORTs before the transfer: both rewritten, the later one wins',
      passive: 'two PASVs before the transfer: the later port serves it',
    }),
    run: async (p, mode) => {
      if (mode === 'passive') {
        return [await passive(p, async (q, line) => {
          const first = await q.ctl.cmd(line, timeout(q));
          if (first.code !== 227 && first.code !== 229) return first;
          return q.ctl.cmd(line, timeout(q));
        })];
      }
      const verb = p.activeVerb;
      const earlier: ActiveListener = await p.listen();
      const later = await p.listen();
      const { obs, refused } = await p.activeRound(
        later,
        async () => {
          const a = await p.ctl.cmd(`${verb} ${p.portArg(earlier, verb)}`, timeout(p));
          if (a.code >= 400) return a;
          return p.ctl.cmd(`${verb} ${p.portArg(later, verb)}`, timeout(p));
        },
        [earlier],
      );
      return [judgeActive(p.view, obs, refused)];
    },
  },
  {
    name: 'pause',
    correct: (s) => ({
      active: `${s.pauseMs / 1000} s between PORT and the transfer: the expectation still open`,
      passive: `${s.pauseMs / 1000} s between PASV and the data connect: still let through`,
    }),
    run: async (p, mode, s) => [
      mode === 'active' ? await active(p, plain, p.activeVerb, s.pauseMs) : await passive(p, plain, p.passiveVerb, s.pauseMs),
    ],
  },
  {
    name: 'eprt-1',
    correct: () => ({
      active: 'EPRT |1|…| rewritten like PORT (RFC 2428)',
      passive: 'EPSV passed (RFC 2428; no address to rewrite)',
    }),
    skip: (_s, ipv6) => (ipv6 ? 'the control connection is IPv6: EPRT |1| needs IPv4' : null),
    run: async (p, mode) => [mode === 'active' ? await active(p, plain, 'EPRT') : await passive(p, plain, 'EPSV')],
  },
  {
    name: 'eprt-2',
    correct: () => ({
      active: 'EPRT |2|…| (IPv6) passed or rewritten',
      passive: 'EPSV over IPv6 passed',
    }),
    skip: (_s, ipv6) => (ipv6 ? null : 'the control connection is IPv4: EPRT |2| needs IPv6 (run the suite with an IPv6 --host)'),
    run: async (p, mode) => [mode === 'active' ? await active(p, plain, 'EPRT') : await passive(p, plain, 'EPSV')],
  },
  {
    name: 'unwatched-port',
    correct: (s) => ({
      active: `PORT on control port ${s.unwatchedPort ?? '(none)'}, which a port-bound helper does not watch: works only where the middlebox inspects FTP on every port`,
      passive: `PASV on control port ${s.unwatchedPort ?? '(none)'} passed`,
    }),
    skip: (s) => (s.unwatchedPort === undefined ? 'no --unwatched-port given' : null),
    port: (s) => s.unwatchedPort,
    run: async (p, mode) => [await basic(p, mode)],
  },
  {
    name: 'third-party',
    correct: (s) => ({
      active: `PORT/EPRT naming ${s.probeAddress ?? 'the --probe-address'} instead of the client: passed unchanged, no pinhole opened, and refused by the server as an FTP bounce (RFC 2577)`,
      passive: 'active only',
    }),
    skip: (s, ipv6, mode) => {
      if (mode === 'passive') return 'active only: PASV/EPSV name no address of the client\'s';
      if (s.probeAddress === undefined) return 'no --probe-address given';
      if (net.isIPv6(s.probeAddress) !== ipv6) {
        return `--probe-address ${s.probeAddress} and the control connection differ in family: the server would refuse the family (522), not the address`;
      }
      return null;
    },
    run: async (p, _mode, s) => {
      const a = s.probeAddress ?? '';
      if (sameHost(a, p.view.own) || (p.view.seenAs !== null && sameHost(a, p.view.seenAs))) {
        return { skip: `--probe-address ${a} is the client's own address or the one the server sees it as, not a third party` };
      }
      // PORT and EPRT |1| on IPv4 (nf_conntrack_ftp parses each on its own), EPRT |2| on IPv6.
      const out: RoundVerdict[] = [];
      for (const verb of p.ctl.ipv6 ? (['EPRT'] as const) : (['PORT', 'EPRT'] as const)) {
        const r = judgeThirdParty(p.view, await p.thirdPartyRound(a, verb));
        out.push(r);
        if (!r.ok) break;
      }
      return out;
    },
  },
];

export const probeNames = probes.map((p) => p.name);

/** Runs one probe in one mode on a session of its own, within `deadlineMs`. */
export async function runProbe(
  def: ProbeDef,
  mode: DataMode,
  s: ProbeSettings,
  o: SessionOptions,
  ipv6: boolean,
  deadlineMs: number,
): Promise<Verdict> {
  const correct = def.correct(s)[mode];
  const why = def.skip?.(s, ipv6, mode) ?? null;
  if (why !== null) return skipped(def.name, mode, correct, why);
  const port = def.port?.(s) ?? s.port;
  let session: ProbeSession;
  try {
    session = await ProbeSession.open(o, port);
  } catch (e) {
    const msg = (e as Error).message;
    return judgeProbe(def.name, mode, correct, [{ ok: false, cls: null, pasvClass: null, happened: `session: ${msg}`, why: `no session on port ${port}: ${msg}` }]);
  }
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'late'>((r) => {
    timer = setTimeout(() => r('late'), deadlineMs);
  });
  try {
    const rounds = await Promise.race([def.run(session, mode, s), deadline]);
    if (rounds === 'late') {
      return judgeProbe(def.name, mode, correct, [{ ok: false, cls: null, pasvClass: null, happened: `not done in ${deadlineMs} ms`, why: 'the probe ran past its deadline' }]);
    }
    if ('skip' in rounds) return skipped(def.name, mode, correct, rounds.skip);
    const lengths = mode === 'active' && session.view.seenAs ? lengthNote(session.view.own, session.view.seenAs) : '';
    return judgeProbe(def.name, mode, correct, rounds, def.name === 'rounds' && rounds.every((r) => r.ok) ? lengths : '');
  } finally {
    clearTimeout(timer);
    session.ctl.close();
  }
}

/** "address text 10.1.0.2 → 10.200.0.1: +2 bytes per PORT" (the sequence shift a rewrite causes). */
function lengthNote(own: string, seen: string): string {
  const d = seen.length - own.length;
  if (d === 0) return `rewrite keeps the length (${own} → ${seen})`;
  return `each rewrite ${own} → ${seen} shifts the stream by ${d > 0 ? '+' : ''}${d} bytes`;
}
