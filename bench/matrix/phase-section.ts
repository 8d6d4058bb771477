// results.md's phase latency section (issue 24): for each scenario, a table
// of its phases (rows) by server (columns), p50 / p99 / max in ms of the
// median round, so that a slow phase shows beside the same phase of the others.

import { formatPhase, phaseNames, phaseTitles } from '../client/phases.js';
import { findCell } from './figures.js';
import type { CompareResult } from './result.js';

export function formatPhaseSection(result: CompareResult, servers: readonly string[]): string[] {
  const out: string[] = [];
  for (const sc of result.scenarios.filter((s) => !s.from)) {
    const tables = servers.map((s) => findCell(result, s, sc.name)?.report?.phases);
    const measured = phaseNames.filter((n) => tables.some((t) => (t?.[n].count ?? 0) > 0));
    if (measured.length === 0) continue;
    out.push('', `### ${sc.name}`, '', `| phase | ${servers.join(' | ')} |`, `|---|${servers.map(() => '---').join('|')}|`);
    for (const n of measured) out.push(`| ${phaseTitles[n]} | ${tables.map((t) => formatPhase(t?.[n])).join(' | ')} |`);
  }
  if (out.length === 0) return [];
  return ['', '## Phase latency (ms, p50 / p99 / max; median round)', '',
    'Where a session\'s time goes, measured by ftpload on its loop\'s clock (native/bench/ftpload/phases.h): ' +
    'TCP connect; banner = connected → 220; login = USER → 230; data setup = 227/229 received → data connection ' +
    'established (passive), PORT/EPRT sent → the server\'s connection accepted (active); first byte and transfer done ' +
    'from RETR/STOR sent; QUIT → 221 or close. — = not measured (the scenario has no such phase).', ...out];
}
