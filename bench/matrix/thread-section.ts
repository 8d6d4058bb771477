// results.md's section on muxftpd's CPU per operation by thread class: a
// table per scenario (its median round), the JS ÷ workers ratio of every
// round, and the ceiling projected per host size (bench/client/thread-table.ts).

import { ceilingNote, markdownThreadCost } from '../client/thread-table.js';
import { findCell } from './figures.js';
import type { CompareResult } from './result.js';

export function formatThreadSection(result: CompareResult, server = 'muxftpd'): string[] {
  const rows = result.scenarios.filter((s) => !s.from);
  const out: string[] = [];
  for (const sc of rows) {
    const cell = findCell(result, server, sc.name);
    const cost = cell?.report?.threadCpu;
    if (!cell?.report || !cost) continue;
    const rounds = result.cells
      .filter((c) => c.server === server && c.scenario === sc.name && c.report?.threadCpu?.jsPerWorker != null)
      .map((c) => c.report?.threadCpu?.jsPerWorker);
    const title = `${sc.name}${rounds.length > 1 ? ` (median round; JS ÷ workers round by round: ${rounds.join(', ')})` : ''}`;
    out.push(...markdownThreadCost(title, cost, cell.report.opsPerSec));
  }
  if (out.length === 0) return [];
  return ['', `## ${server}: CPU per operation by thread, and the ceiling per host size`, '', ceilingNote, ...out];
}
