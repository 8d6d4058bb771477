// What the namespace lab tests (test/nat, test/lb) read back: the JSON line a
// client run prints last (muxftpd-bench's report, alg-suite's verdicts,
// clients.py's summary) and a server's Prometheus metrics, scraped from
// inside its namespace (the metrics port is reachable only there).
import type { SuiteResult } from '../../bench/client/alg/suite.js';
import type { Report } from '../../bench/client/report.js';
import { benchCliPath, explain, run, type RunResult } from '../nat/lab.js';
import { installed } from './requires.js';

/** Where a lab runs its clients: Lab and LbLab, whose client() runs a command in the client namespace. */
export interface ClientSide {
  client(cmd: string, args: readonly string[], timeoutMs?: number): Promise<RunResult>;
}

/**
 * The last line of a run's stdout parsed as JSON and typed T (the caller
 * names what the program prints); throws naming `what`, with the run, when
 * that line is not JSON.
 */
export function lastJsonLine<T>(r: RunResult, what: string): T {
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`${what} printed no JSON: ${explain(r)}`);
  }
}

/** muxftpd-bench (a load run) with ARGS in the lab's client namespace: its JSON report. */
export async function benchIn(lab: ClientSide, args: readonly string[], timeoutMs: number): Promise<Report> {
  const r = await lab.client(process.execPath, [benchCliPath, '--json', '--quiet', ...args], timeoutMs);
  return lastJsonLine<Report>(r, `muxftpd-bench ${args.join(' ')}`);
}

/** muxftpd-bench alg-suite with ARGS in the lab's client namespace: its verdicts and exit code (1 when a probe failed). */
export async function algSuiteIn(
  lab: ClientSide,
  args: readonly string[],
  timeoutMs: number,
): Promise<{ code: number | null; r: SuiteResult }> {
  const r = await lab.client(process.execPath, [benchCliPath, 'alg-suite', '--json', ...args], timeoutMs);
  return { code: r.code, r: lastJsonLine<SuiteResult>(r, 'alg-suite') };
}

// ───────────────────────────── a server's metrics ─────────────────────────────

/** A scrape: each sample's `name{labels}` as the exposition prints it (`name` alone when it has none) → its value. */
export type Metrics = ReadonlyMap<string, number>;

/** Parses the text exposition format's sample lines; comments and anything else are passed over. */
export function parseMetrics(text: string): Metrics {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^([A-Za-z_:][\w:]*(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out.set(m[1], Number(m[2]));
  }
  return out;
}

const fetchScript =
  'fetch(process.argv[1], { signal: AbortSignal.timeout(10_000) }).then(async (r) => { process.stdout.write(await r.text()); }, ' +
  '(e) => { console.error(String(e)); process.exit(1); })';

/**
 * GET `url` from inside network namespace `ns`: with curl where it is
 * installed (it starts in a tenth of node's time, and the 10,000-session test
 * scrapes every second on a loaded machine), else with node's fetch. Either
 * gives up after 10 s.
 */
export async function scrapeMetrics(ns: string, url: string): Promise<Metrics> {
  const get = installed('curl') ? ['curl', '-sS', '--max-time', '10', url] : [process.execPath, '-e', fetchScript, url];
  const r = await run('ip', ['netns', 'exec', ns, ...get], 15_000);
  if (r.code !== 0) throw new Error(`scraping ${url} in ${ns}: ${explain(r)}`);
  return parseMetrics(r.stdout);
}

/** The sum of every series of the metric `name`, whatever their labels. */
export function sumOf(m: Metrics, name: string): number {
  let sum = 0;
  for (const [k, v] of m) if (k === name || k.startsWith(`${name}{`)) sum += v;
  return sum;
}

/** The series of `name` that have `label` as their one label: label value → value. */
export function byLabel(m: Metrics, name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  const series = new RegExp(`^${name}\\{${label}="(\\w+)"\\}$`);
  for (const [k, v] of m) {
    const value = series.exec(k)?.[1];
    if (value !== undefined) out[value] = v;
  }
  return out;
}
