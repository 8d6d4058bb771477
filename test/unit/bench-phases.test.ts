// Phase latency (issue 24) on made-up runs: the phases of processes merged
// bucket by bucket, the report's shape, its text rows, results.md's phase
// section and the two-run comparison table.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { hist, summary } from './helpers/summary.js';
import {
  formatPhasesCompare, mergePhases, phaseNames, type PhasesJson, phasesCompareFiles, phaseTable,
} from '../../bench/client/phases.js';
import { buildReport, formatReport, mergeSummaries } from '../../bench/client/report.js';
import type { CompareResult } from '../../bench/matrix/result.js';
import { matrixScenarios } from '../../bench/matrix/scenarios.js';
import { formatMarkdown } from '../../bench/matrix/tables.js';

/** Every phase with the same values but data_setup, which gets its own. */
function phases(all: number[], dataSetup: number[] = all): PhasesJson {
  const p = {} as PhasesJson;
  for (const n of phaseNames) p[n] = hist(n === 'data_setup' ? dataSetup : all);
  return p;
}

describe('merging phases of processes', () => {
  it('adds the buckets of each phase, so the percentiles are of all values, not an average', () => {
    // Process A: 98 fast data setups; process B: 2 slow ones. Averaging the
    // processes' p99s would give (1 + 60) / 2; the merged p99 is the 99th value.
    const a = phases([1], new Array<number>(98).fill(1));
    const b = phases([2], [60, 60]);
    const m = mergePhases([a, b]);
    expect(m?.data_setup.count).toBe(100);
    expect(m?.data_setup.buckets).toEqual([[1, 2, 98], [60, 61, 2]]);
    const t = phaseTable(m as PhasesJson);
    expect(t.data_setup).toEqual({ count: 100, p50: 0.001, p99: 0.06, max: 0.06 });
    expect(t.connect).toEqual({ count: 2, p50: 0.001, p99: 0.002, max: 0.002 });
  });
  it('is undefined when no process measured phases (older builds), and skips those that did not', () => {
    expect(mergePhases([undefined, undefined])).toBeUndefined();
    expect(mergePhases([undefined, phases([3])])?.quit.count).toBe(1);
  });
  it('goes through mergeSummaries: merged by histogram, absent when no summary has them', () => {
    const m = mergeSummaries([summary({ phases: phases([10, 20]) }), summary({ phases: phases([30]) })]);
    expect(m.phases?.login).toEqual(hist([10, 20, 30]));
    expect(mergeSummaries([summary(), summary()]).phases).toBeUndefined();
  });
});

describe('the report of phases', () => {
  it('has every phase, in ms with counts, in the JSON report', () => {
    const r = buildReport(summary({ phases: phases([10, 20, 30, 40], []) }));
    expect(Object.keys(r.phases ?? {})).toEqual([...phaseNames]);
    expect(r.phases?.banner).toEqual({ count: 4, p50: 0.02, p99: 0.04, max: 0.04 });
    expect(r.phases?.data_setup).toEqual({ count: 0, p50: 0, p99: 0, max: 0 });
    // JSON round trip: what --json writes and --phases-compare reads
    expect(JSON.parse(JSON.stringify(r)).phases.quit.p99).toBe(0.04);
  });
  it('prints a row per measured phase in the text report, none for the others', () => {
    const text = formatReport(buildReport(summary({ phases: phases([10, 20, 30, 40], []) })));
    expect(text).toMatch(/phase connect\s+p50 0\.02 {2}p99 0\.04 {2}max 0\.04 ms {2}\(4 measured\)/);
    expect(text).toMatch(/phase quit/);
    expect(text).not.toMatch(/phase data_setup/);
    expect(formatReport(buildReport(summary()))).not.toMatch(/phase /);
  });
});

describe('phases side by side', () => {
  const direct = buildReport(summary({ phases: phases([10], [20]) }));
  const nat = buildReport(summary({ phases: phases([10], [50]) }));
  it('shows two runs and what the second adds to each phase\'s p50', () => {
    const t = formatPhasesCompare({ label: 'direct', phases: direct.phases }, { label: 'nat', phases: nat.phases });
    const lines = t.split('\n');
    expect(lines[0]).toBe('| phase (ms: p50 / p99 / max) | direct | nat | p50 nat − direct |');
    expect(lines).toContain('| data setup (227/229 → connected; PORT/EPRT → accepted) | 0.02 / 0.02 / 0.02 | 0.05 / 0.05 / 0.05 | +0.03 |');
    expect(lines).toContain('| TCP connect | 0.01 / 0.01 / 0.01 | 0.01 / 0.01 / 0.01 | 0 |');
    expect(lines).toHaveLength(2 + phaseNames.length);
  });
  it('reads two --json reports, labelled by file name, and refuses one without phases', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'phases-'));
    try {
      writeFileSync(path.join(dir, 'direct.json'), JSON.stringify(direct));
      writeFileSync(path.join(dir, 'nat.json'), JSON.stringify(nat));
      writeFileSync(path.join(dir, 'old.json'), JSON.stringify(buildReport(summary())));
      expect(phasesCompareFiles(path.join(dir, 'direct.json'), path.join(dir, 'nat.json'))).toMatch(/\| direct \| nat \|/);
      expect(() => phasesCompareFiles(path.join(dir, 'direct.json'), path.join(dir, 'old.json'))).toThrow(/old\.json: no phases/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('results.md', () => {
  const login = matrixScenarios.find((s) => s.name === 'login-100');
  const small = matrixScenarios.find((s) => s.name === 'small-100');
  if (!login || !small) throw new Error('matrix lacks login-100 or small-100');
  const cell = (server: string, scenario: string, p?: PhasesJson) => ({
    server, scenario, failure: null, argv: [['ftpload']],
    report: buildReport(summary({ scenario, ...(p ? { phases: p } : {}) })),
  });
  const result = (cells: CompareResult['cells']): CompareResult => ({
    date: '2026-12-07T00:00:00Z', command: 'npm run bench:compare', machine: {}, settings: { mode: 'epsv' },
    servers: [{ name: 'muxftpd', version: '', installed: true, note: '' }, { name: 'vsftpd', version: '', installed: true, note: '' }],
    scenarios: [login, small], cells,
  });
  it('has a phase table per scenario and server, with only the phases measured', () => {
    const md = formatMarkdown(result([
      cell('muxftpd', 'login-100', phases([10], [])), cell('vsftpd', 'login-100', phases([30], [])),
      cell('muxftpd', 'small-100', phases([10], [20])), cell('vsftpd', 'small-100'),
    ]));
    const section = md.slice(md.indexOf('## Phase latency'), md.indexOf('## Errors'));
    expect(section).toMatch(/### login-100\n\n\| phase \| muxftpd \| vsftpd \|/);
    expect(section).toContain('| banner (connected → 220) | 0.01 / 0.01 / 0.01 | 0.03 / 0.03 / 0.03 |');
    const loginPart = section.slice(section.indexOf('### login-100'), section.indexOf('### small-100'));
    expect(loginPart).not.toMatch(/data setup/);
    expect(section.slice(section.indexOf('### small-100'))).toContain('| data setup (227/229 → connected; PORT/EPRT → accepted) | 0.02 / 0.02 / 0.02 | — |');
  });
  it('has no phase section when no run measured phases', () => {
    expect(formatMarkdown(result([cell('muxftpd', 'login-100')]))).not.toMatch(/Phase latency/);
  });
});
