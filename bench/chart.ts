// chart.svg of a comparison, rendered headlessly by Vega (no browser, no canvas):
// one bar per server and scenario, the ratio to muxftpd on a log axis. Rows
// where lower is better (memory) and the muxftpd-only scaling rows are left
// out: every bar reads "above 1 = more than muxftpd".

import * as vega from 'vega';
import { baseServer, ratios } from './matrix/figures.js';
import type { CompareResult } from './matrix/result.js';
import type { MatrixScenario } from './matrix/scenarios.js';

function charted(result: CompareResult): MatrixScenario[] {
  return result.scenarios.filter((s) => !s.only && s.better !== 'lower');
}

export interface ChartRow {
  scenario: string;
  server: string;
  ratio: number;
}

export function chartRows(result: CompareResult): ChartRow[] {
  const rows: ChartRow[] = [];
  for (const sc of charted(result)) {
    const r = ratios(result, sc);
    for (const s of result.servers) {
      const v = r[s.name];
      if (v != null && v > 0) rows.push({ scenario: sc.name, server: s.name, ratio: v });
    }
  }
  return rows;
}

export async function renderChart(result: CompareResult): Promise<string> {
  const rows = chartRows(result);
  const servers = result.servers.filter((s) => s.installed).map((s) => s.name);
  const scenarios = charted(result).map((s) => s.name);
  const base = baseServer(result) ?? 'the first server';
  const bandH = 12;
  const height = Math.max(60, scenarios.length * servers.length * bandH + scenarios.length * 6);
  const spec: vega.Spec = {
    $schema: 'https://vega.github.io/schema/vega/v5.json',
    width: 560,
    height,
    padding: 8,
    title: { text: `Throughput relative to ${base} (log scale, ${base} = 1)`, anchor: 'start' },
    data: [{ name: 'rows', values: rows }],
    scales: [
      { name: 'y', type: 'band', domain: scenarios, range: 'height', padding: 0.15 },
      { name: 'x', type: 'log', domain: { data: 'rows', field: 'ratio' }, range: 'width', nice: true, zero: false },
      { name: 'color', type: 'ordinal', domain: servers, range: 'category' },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: `ratio to ${base}`, grid: true },
      { orient: 'left', scale: 'y' },
    ],
    legends: [{ fill: 'color', title: 'server' }],
    marks: [
      {
        type: 'group',
        from: { facet: { data: 'rows', name: 'facet', groupby: 'scenario' } },
        encode: { enter: { y: { scale: 'y', field: 'scenario' }, height: { scale: 'y', band: 1 } } },
        signals: [{ name: 'h', update: 'bandwidth("y")' }],
        scales: [{ name: 'inner', type: 'band', range: { signal: '[0, h]' }, domain: servers }],
        marks: [
          {
            type: 'rect',
            from: { data: 'facet' },
            encode: {
              enter: {
                y: { scale: 'inner', field: 'server' },
                height: { scale: 'inner', band: 1 },
                x: { scale: 'x', value: 1 },
                x2: { scale: 'x', field: 'ratio' },
                fill: { scale: 'color', field: 'server' },
              },
            },
          },
        ],
      },
      {
        type: 'rule',
        encode: { enter: { x: { scale: 'x', value: 1 }, y: { value: 0 }, y2: { signal: 'height' }, stroke: { value: '#333' } } },
      },
    ],
  };
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG();
  view.finalize();
  return svg;
}
