// What a bench:compare run records (results.json): a cell per server,
// scenario and round, and the run's settings, machine and servers.

import type { CpuUse } from '../client/cpu.js';
import type { Report } from '../client/report.js';
import type { MatrixScenario } from './scenarios.js';
import type { SignLimit } from './tls-limit.js';

export interface Cell {
  server: string;
  scenario: string;
  report: Report | null;
  failure: string | null;
  argv: string[][];
  /** The server's command line for this run. */
  serverArgv?: string[];
  /** The server's passive port range for this run, "min-max". */
  pasvPorts?: string;
  /** Which round of the run measured it (0-based, see --rounds); absent = 0. */
  round?: number;
  /** CPU used while the load ran (absent in runs made before it was measured). */
  cpu?: CpuUse;
}

export interface CompareResult {
  date: string;
  command: string;
  machine: Record<string, string>;
  settings: Record<string, number | string>;
  servers: Array<{ name: string; version: string; installed: boolean; note: string }>;
  scenarios: MatrixScenario[];
  cells: Cell[];
  /** The TLS rows' setup: version, the certificate's command, and the signature limit (absent without TLS rows). */
  tls?: {
    version: string;
    cert: string;
    /** null: openssl speed could not be run. */
    signLimit: SignLimit | null;
    /** Why the TLS rows could not run at all (no certificate), else absent. */
    failure?: string;
  };
}
