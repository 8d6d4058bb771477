// alg-suite: every probe in active and passive mode against one server
// (through the middlebox under test), the verdict table, the class counts.
// Exit code 0 only when no probe failed (skips name their reason).
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { type AddressCounts, emptyCounts } from './classes.js';
import { Control, replyText } from './control.js';
import { parseStatPeer } from './endpoints.js';
import { probes, type ProbeSettings, runProbe } from './probes.js';
import type { SessionOptions } from './session.js';
import type { DataMode, Verdict } from './verdict.js';

export interface SuiteOptions extends ProbeSettings {
  host: string;
  user: string;
  pass: string;
  file?: string | undefined;
  /** Local copy of --file: its sha256 is what every transfer must match. */
  verifyLocal?: string | undefined;
  expectPasvAddress?: string | undefined;
  timeoutMs: number;
  /** Only these probes (default all). */
  only?: readonly string[] | undefined;
  modes: readonly DataMode[];
}

export interface SuiteResult {
  host: string;
  port: number;
  unwatchedPort: number | null;
  /** --probe-address: what the third-party probe names instead of the client. */
  probeAddress: string | null;
  /** The client's own address, and the control peer the server reported (STAT). */
  own: string;
  seenAs: string | null;
  esta: boolean;
  estp: boolean;
  verdicts: Verdict[];
  counts: AddressCounts;
  passed: number;
  failed: number;
  skipped: number;
}

/** Logs in once: FEAT (ESTA/ESTP?), STAT (the control peer), SIZE of the file. */
async function preflight(o: SuiteOptions): Promise<{ own: string; seenAs: string | null; esta: boolean; estp: boolean; size?: number }> {
  const ctl = await Control.connect(o.host, o.port, o.timeoutMs);
  try {
    const hello = await ctl.reply(o.timeoutMs);
    if (hello.code !== 220) throw new Error(`greeting: ${replyText(hello)}`);
    let r = await ctl.cmd(`USER ${o.user}`, o.timeoutMs);
    if (r.code === 331) r = await ctl.cmd(`PASS ${o.pass}`, o.timeoutMs);
    if (r.code !== 230 && r.code !== 202) throw new Error(`login refused: ${replyText(r)}`);
    const feat = await ctl.cmd('FEAT', o.timeoutMs);
    const listed = (verb: string): boolean => feat.code === 211 && feat.lines.some((l) => l.trim().toUpperCase() === verb);
    // Not in FEAT (muxftpd and pure-ftpd do not list them): asked without a
    // data setup, a server that has the command refuses it for the mode (520,
    // pure-ftpd's code) or for the missing connection (425); one that does not
    // have it answers 500/502.
    const has = async (verb: string): Promise<boolean> =>
      listed(verb) || [225, 425, 520].includes((await ctl.cmd(verb, o.timeoutMs)).code);
    const esta = await has('ESTA');
    const estp = await has('ESTP');
    const stat = await ctl.cmd('STAT', o.timeoutMs);
    const seenAs = stat.code === 211 || stat.code === 212 ? parseStatPeer(stat.lines) : null;
    let size: number | undefined;
    if (o.file !== undefined) {
      await ctl.cmd('TYPE I', o.timeoutMs);
      const sz = await ctl.cmd(`SIZE ${o.file}`, o.timeoutMs);
      const m = sz.code === 213 ? /^213 (\d+)\s*$/.exec(sz.lines[0] ?? '') : null;
      if (m) size = Number(m[1]);
    }
    const own = ctl.localAddress;
    await ctl.quit(o.timeoutMs);
    return { own, seenAs, esta, estp, ...(size !== undefined ? { size } : {}) };
  } finally {
    ctl.close();
  }
}

export function countClasses(verdicts: readonly Verdict[]): AddressCounts {
  const c = emptyCounts();
  for (const v of verdicts) {
    for (const cls of v.classes) {
      if (cls === null) continue;
      if (v.mode === 'active' && cls in c.active) c.active[cls as keyof typeof c.active]++;
      if (v.mode === 'passive' && cls in c.passive) c.passive[cls as keyof typeof c.passive]++;
    }
    for (const p of v.pasvClasses) if (p !== null) c.pasvReply[p]++;
  }
  return c;
}

export async function runSuite(o: SuiteOptions, onVerdict?: (v: Verdict) => void): Promise<SuiteResult> {
  const pre = await preflight(o);
  const expectBytes: SessionOptions['expectBytes'] = {};
  if (pre.size !== undefined) expectBytes.size = pre.size;
  if (o.verifyLocal !== undefined) {
    const data = await readFile(o.verifyLocal);
    expectBytes.size = data.length;
    expectBytes.sha256 = createHash('sha256').update(data).digest('hex');
  }
  const session: SessionOptions = {
    host: o.host, user: o.user, pass: o.pass, file: o.file, timeoutMs: o.timeoutMs,
    expectPasvAddress: o.expectPasvAddress, esta: pre.esta, estp: pre.estp, expectBytes,
  };
  const ipv6 = o.host.includes(':');
  const verdicts: Verdict[] = [];
  for (const def of probes) {
    if (o.only && !o.only.includes(def.name)) continue;
    for (const mode of o.modes) {
      // Every wait is bounded by timeoutMs; a probe's rounds and pauses add up to this at most.
      const deadline = (o.rounds + 4) * 3 * o.timeoutMs + o.pauseMs + o.splitPauseMs;
      const v = await runProbe(def, mode, o, session, ipv6, deadline);
      verdicts.push(v);
      onVerdict?.(v);
    }
  }
  const n = (r: Verdict['result']): number => verdicts.filter((v) => v.result === r).length;
  return {
    host: o.host, port: o.port, unwatchedPort: o.unwatchedPort ?? null, probeAddress: o.probeAddress ?? null,
    own: pre.own, seenAs: pre.seenAs, esta: pre.esta, estp: pre.estp,
    verdicts, counts: countClasses(verdicts), passed: n('pass'), failed: n('fail'), skipped: n('skip'),
  };
}

/** The process exit code of a run: 0 only when no probe failed. */
export function exitCode(r: Pick<SuiteResult, 'failed'>): number {
  return r.failed === 0 ? 0 : 1;
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  return out.length ? out : [''];
}

/** The verdict table, one block per probe and mode. */
export function formatSuite(r: SuiteResult): string {
  const lines = [
    `alg-suite ${r.host}:${r.port}${r.unwatchedPort ? ` (unwatched port ${r.unwatchedPort})` : ''}${r.probeAddress ? ` (probe address ${r.probeAddress})` : ''}: client ${r.own}, the server sees it as ${r.seenAs ?? '(STAT does not say)'}; ESTA ${r.esta ? 'yes' : 'no'}, ESTP ${r.estp ? 'yes' : 'no'}`,
    '',
    `${'probe'.padEnd(16)}${'mode'.padEnd(9)}${'result'.padEnd(7)}details`,
  ];
  for (const v of r.verdicts) {
    const head = `${v.probe.padEnd(16)}${v.mode.padEnd(9)}${v.result.toUpperCase().padEnd(7)}`;
    const pad = ' '.repeat(head.length);
    const detail = [`correct: ${v.correct}`, `happened: ${v.happened}`, ...(v.why ? [`why: ${v.why}`] : [])];
    let first = true;
    for (const d of detail) {
      for (const w of wrap(d, 100)) {
        lines.push(`${first ? head : pad}${w}`);
        first = false;
      }
    }
  }
  const c = r.counts;
  lines.push(
    '',
    `active:  ${Object.entries(c.active).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `passive: ${Object.entries(c.passive).map(([k, n]) => `${k} ${n}`).join(', ')}; 227/229 ${Object.entries(c.pasvReply).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped`,
  );
  return lines.join('\n');
}
