// The results as tables: results.md (each figure, each peer's ratio to
// muxftpd, muxftpd ÷ the best peer, scaling, CPU, latency, errors, servers,
// machine, commands) and the terminal summary. Numbers come from
// figures.ts; this file only formats them.

import { formatErrors, type Report } from '../client/report.js';
import {
  baseServer,
  bestPeer,
  cellValue,
  findCell,
  ratios,
  roundsOf,
  scalingRatio,
  vsBestPeer,
  vsBestSpread,
} from './figures.js';
import type { Cell, CompareResult } from './result.js';
import { formatPhaseSection } from './phase-section.js';
import { formatThreadSection } from './thread-section.js';
import { formatTlsSection, handshakesPerCore } from './tls-section.js';
import { type MatrixScenario, passivePorts, reference } from './scenarios.js';

function formatSpread(s: { min: number; max: number } | null): string {
  return s ? `; rounds ${s.min}-${s.max}x` : '';
}

export function formatVsBest(result: CompareResult, sc: MatrixScenario): string {
  const best = bestPeer(result, sc);
  if (!best) return '—';
  const r = vsBestPeer(result, sc);
  return r === null ? `— (best peer ${best.server}: ${fmt(best.value)})` : `${r}x (${best.server}${formatSpread(vsBestSpread(result, sc))})`;
}

function fmt(v: number): string {
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function portCount(range: string): number {
  const [a, b] = range.split('-').map(Number);
  return a !== undefined && b !== undefined && b >= a ? b - a + 1 : 0;
}

/** "1234 (0.52x)", with a dagger when the run had errors, or why there is no figure. */
export function formatCell(result: CompareResult, sc: MatrixScenario, server: string): string {
  const cell = findCell(result, server, sc.name);
  if (!cell) return '—';
  if (!cell.report) return `failed${cell.failure ? `: ${cell.failure.split('\n')[0]?.slice(0, 60)}` : ''}`;
  const v = cellValue(cell, sc.metric);
  const r = cell.report;
  if (v === null) {
    if (sc.metric === 'perSessionKiB') return r.aliveAtEnd === 0 ? 'n/a (no session held)' : 'n/a (no memory sample)';
    const top = Object.entries(r.errors).sort((a, b) => b[1] - a[1])[0];
    return `n/a${top ? ` (${top[0]})` : ''}`;
  }
  const rt = ratios(result, sc)[server];
  let text = fmt(v);
  if (sc.metric === 'aliveAtEnd') {
    text = `${v} of ${r.concurrency} held`;
    // Sessions still between connect and login when the hold ended: a slow ramp, not a drop.
    if (r.abortedAtEnd > 0) text += ` (${r.abortedAtEnd} still logging in)`;
    if (r.memory?.perSessionKiB != null) text += `, ${fmt(r.memory.perSessionKiB)} KiB/session`;
  }
  if (sc.metric === 'ops') {
    text = `${v} of ${r.concurrency}, ${r.maxDataHeld} held at once`;
    if (r.abortedAtEnd > 0) text += ` (${r.abortedAtEnd} unfinished at the end)`;
    if (cell.pasvPorts) text += `, ports ${cell.pasvPorts}`;
  }
  if (sc.metric === 'perSessionKiB' && r.memory) text += ` (${r.memory.sessions} sessions)`;
  if (rt !== null && rt !== undefined && server !== baseServer(result)) text += ` (${rt}x)`;
  if (r.errorTotal > 0) text += ' †';
  return text;
}

/** Rows of the main table: everything but the muxftpd-only scaling rows. */
export function tableScenarios(result: CompareResult): MatrixScenario[] {
  return result.scenarios.filter((s) => !s.only);
}

function unitOf(sc: MatrixScenario): string {
  return sc.better === 'lower' ? `${sc.unit} (lower is better)` : sc.unit;
}

export function formatMarkdown(result: CompareResult): string {
  const servers = result.servers.filter((s) => s.installed).map((s) => s.name);
  const b = baseServer(result);
  const mode = String(result.settings['mode'] ?? 'epsv').toUpperCase();
  const lines: string[] = [];
  lines.push(`# muxftpd vs peers — ${result.date.slice(0, 10)}`, '');
  const rounds = Number(result.settings['rounds'] ?? 1);
  lines.push(`Each figure is the server's rate over one run of the scenario${rounds > 1
    ? ` (each row but passive and idle ran ${rounds} rounds, servers in turn, the order reversed every other round: ` +
      'the figure and its latency below are the median round\'s; the errors list every round)'
    : ''}; in parentheses, its ratio to ${b ?? 'the first server'} ` +
    '(above 1 = more than it). ' +
    `Last column: ${b ?? 'the first server'}'s figure ÷ the best peer's in this run, and which peer that is ` +
    `${rounds > 1 ? '(then "rounds": the lowest and highest of that ratio taken round by round) ' : ''}` +
    '(for a row marked "lower is better", below 1 is better). ' +
    '† = the run had errors (listed below). n/a = no operation succeeded (the error named). ' +
    `Data connections: ${mode}.`, '');
  lines.push(`| scenario | unit | ${servers.join(' | ')} | ${b ?? 'base'} ÷ best peer |`);
  lines.push(`|---|---|${servers.map(() => '---:').join('|')}|---:|`);
  for (const sc of tableScenarios(result)) {
    lines.push(`| ${sc.title} | ${unitOf(sc)} | ${servers.map((s) => formatCell(result, sc, s)).join(' | ')} | ${formatVsBest(result, sc)} |`);
  }
  const notes: string[] = [];
  const passive = result.scenarios.find((s) => s.sizedBy === 'passive');
  if (passive) {
    const ranges = servers
      .map((s) => ({ s, c: findCell(result, s, passive.name) }))
      .filter((x) => x.c?.pasvPorts)
      .map((x) => `${x.s} ${x.c?.pasvPorts} (${portCount(x.c?.pasvPorts ?? '')} ports)`);
    notes.push(`- ${passive.name}: ${result.settings['passiveSessions'] ?? passive.load.concurrency} sessions from ${passive.load.source ?? '127.0.0.1'}; ` +
      'each holds its data connection until all do, then RETRs; "held at once" = most data connections open together. ' +
      `muxftpd runs with a ${passivePorts}-port passive range; peers keep their configured ranges` +
      `${ranges.length ? ` (this run: ${ranges.join(', ')})` : ''}.`);
  }
  if (result.scenarios.some((s) => s.sizedBy === 'idle')) {
    notes.push(`- idle: ${result.settings['idleSessions'] ?? ''} sessions asked of muxftpd, ${result.settings['peerIdleSessions'] ?? ''} of each peer ` +
      '(a process per session at 19,000 would need up to 38,000 processes); a server that holds fewer shows how many it held ' +
      'and the errors say why (its result, not a fault of the bench). Memory: PSS of the server\'s process tree while the ' +
      'most sessions were held, minus at rest, ÷ the sessions logged in at that moment.');
  }
  if (servers.includes(reference)) {
    notes.push(`- ${reference}: the reference server (native/bench/bare.cc: one epoll thread, fixed replies, no checks), ` +
      'not a peer and never the best one; it runs the login, small-file, persistent and NOOP rows only. Not a ceiling, but ' +
      'where its CPU row shows ftpload\'s one thread full, the load generator sets the figure, for any server.');
  }
  if (notes.length) lines.push('', ...notes);
  const scaling = scalingRatio(result);
  if (scaling) {
    const t1s = result.scenarios.find((s) => s.name === 'threads-1');
    const t2s = result.scenarios.find((s) => s.name === 'threads-2');
    const show = (sc: MatrixScenario | undefined): string => (sc ? formatCell(result, sc, 'muxftpd') : '—');
    lines.push('', '## Scaling (muxftpd, small files/s, new session each, 100 clients)', '');
    lines.push('| --threads 1 | --threads 2 | 2 ÷ 1 | 2 ÷ 1, round by round |');
    lines.push('|---:|---:|---:|---:|');
    lines.push(`| ${show(t1s)} | ${show(t2s)} | ${scaling.ratio === null ? '—' : `${scaling.ratio}x`} | ` +
      `${scaling.spread ? `${scaling.spread.min}-${scaling.spread.max}x` : '—'} |`);
  }
  lines.push(...formatCpu(result, servers));
  lines.push(...formatTlsSection(result, servers));
  lines.push(...formatThreadSection(result));
  lines.push('', '![chart](chart.svg)', '');
  lines.push('## Latency (ms, p50 / p99 / max)', '');
  lines.push(`| scenario | ${servers.join(' | ')} |`);
  lines.push(`|---|${servers.map(() => '---').join('|')}|`);
  for (const sc of result.scenarios.filter((s) => !s.from)) {
    const row = servers.map((s) => {
      const r = findCell(result, s, sc.name)?.report;
      return r && r.ops > 0 ? `${r.latencyMs.p50} / ${r.latencyMs.p99} / ${r.latencyMs.max}` : '—';
    });
    lines.push(`| ${sc.name} | ${row.join(' | ')} |`);
  }
  lines.push(...formatPhaseSection(result, servers));
  lines.push('', '## Errors', '');
  let any = false;
  const where = (c: Cell): string => `${c.server} / ${c.scenario}${rounds > 1 && roundsOf(result, c.scenario).length > 1 ? ` (round ${(c.round ?? 0) + 1})` : ''}`;
  for (const c of result.cells) {
    if (c.failure) {
      lines.push(`- ${where(c)}: ${c.failure.split('\n')[0]}`);
      any = true;
    } else if (c.report && c.report.errorTotal > 0) {
      lines.push(`- ${where(c)}: ${c.report.errorTotal} of ${c.report.ops + c.report.errorTotal}: ${formatErrors(c.report.errors)}`);
      any = true;
    }
  }
  if (!any) lines.push('None.');
  // Where the figure counts sessions, say where the unfinished ones were when the run ended.
  const held = new Set(result.scenarios.filter((s) => s.metric === 'ops' || s.metric === 'aliveAtEnd').map((s) => s.name));
  const cut = result.cells.filter((c) => held.has(c.scenario) && c.report && c.report.abortedAtEnd > 0);
  if (cut.length) {
    lines.push('', 'Sessions unfinished when the run ended (by the state they were in):', '');
    for (const c of cut) {
      const r = c.report as Report;
      lines.push(`- ${where(c)}: ${r.abortedAtEnd}: ${formatErrors(r.abortedByState)}`);
    }
  }
  lines.push('', '## Servers', '');
  for (const s of result.servers) {
    lines.push(`- ${s.name}${s.version ? ` ${s.version}` : ''}${s.installed ? '' : ` — not measured: ${s.note}`}`);
  }
  lines.push('', '## Machine', '');
  for (const [k, v] of Object.entries(result.machine)) lines.push(`- ${k}: ${v}`);
  lines.push('', '## Settings', '');
  for (const [k, v] of Object.entries(result.settings)) lines.push(`- ${k}: ${v}`);
  lines.push('', '## Commands', '', 'Whole run:', '', '```', result.command, '```', '', 'Each server start:', '', '```');
  const seen = new Set<string>();
  for (const c of result.cells) {
    if (!c.serverArgv?.length) continue;
    const line = c.serverArgv.join(' ');
    if (seen.has(`${c.server}\n${line}`)) continue;
    seen.add(`${c.server}\n${line}`);
    const ran = new Set(result.cells.filter((d) => d.server === c.server && d.serverArgv?.join(' ') === line).map((d) => d.scenario));
    lines.push(`# ${c.server} (${[...ran].join(', ')})`, line);
  }
  lines.push('```', '', `Each load (ftpload argv${rounds > 1 ? '; every round ran the same' : ''}):`, '', '```');
  // Each server's load once per scenario: the first round that ran it (one that did not start has none).
  const shown = new Set<string>();
  for (const c of result.cells) {
    const key = `${c.server}\n${c.scenario}`;
    if (c.argv.length === 0 || shown.has(key)) continue;
    shown.add(key);
    for (const a of c.argv) lines.push(`# ${c.server} / ${c.scenario}`, a.join(' '));
  }
  lines.push('```', '');
  return lines.join('\n');
}

/**
 * The CPU table: for each row's median round, how busy the whole box was and
 * what the server and the load generator used. Without it a result cannot say
 * whether the server or the machine set the figure.
 */
function formatCpu(result: CompareResult, servers: readonly string[]): string[] {
  const rows = result.scenarios.filter((s) => !s.from);
  if (!rows.some((sc) => servers.some((s) => findCell(result, s, sc.name)?.cpu))) return [];
  const cpus = result.machine['nproc'] ? ` of ${result.machine['nproc']} CPUs` : '';
  const lines = ['', `## CPU while each load ran (median round: box busy %${cpus} · server cores · ftpload cores)`, '',
    'Box = every CPU of the machine, client and kernel threads included; server = its whole process tree; ' +
    'ftpload = the load generator. A box near 100% busy means the machine, shared by server and client, ' +
    'set the figure rather than the server alone.', ''];
  lines.push(`| scenario | ${servers.join(' | ')} |`);
  lines.push(`|---|${servers.map(() => '---').join('|')}|`);
  for (const sc of rows) {
    const row = servers.map((s) => {
      const c = findCell(result, s, sc.name)?.cpu;
      return c ? `${c.boxBusyPct}% · ${c.serverCores} · ${c.clientCores}` : '—';
    });
    lines.push(`| ${sc.name} | ${row.join(' | ')} |`);
  }
  return lines;
}

export function formatTerminal(result: CompareResult): string {
  const servers = result.servers.filter((s) => s.installed).map((s) => s.name);
  const b = baseServer(result) ?? 'base';
  const rows = [['scenario', 'unit', ...servers, `${b} ÷ best peer`]];
  for (const sc of tableScenarios(result)) {
    rows.push([sc.name, unitOf(sc), ...servers.map((s) => formatCell(result, sc, s)), formatVsBest(result, sc)]);
  }
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const out = rows.map((r) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  '));
  const scaling = scalingRatio(result);
  if (scaling) {
    const f = (v: number | null): string => (v === null ? 'n/a' : fmt(v));
    out.push('', `scaling (muxftpd small-100): --threads 1 ${f(scaling.t1)}, --threads 2 ${f(scaling.t2)} files/s, ` +
      `2 ÷ 1 = ${scaling.ratio === null ? 'n/a' : `${scaling.ratio}x`}${formatSpread(scaling.spread)}`);
  }
  const login = result.scenarios.find((s) => s.name === 'tls-login');
  if (result.tls && login) {
    const limit = result.tls.signLimit;
    const per = servers.map((s) => `${s} ${handshakesPerCore(findCell(result, s, login.name)) ?? '—'}`).join(', ');
    out.push('', `TLS ${result.tls.version}: full handshakes/s per server core (tls-login): ${per}; limit ` +
      `${limit ? `${Math.round(limit.signPerSec)} P-256 signatures/s per core (${limit.command})` : 'unknown (no openssl)'}`);
  }
  return out.join('\n');
}
