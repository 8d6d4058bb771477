// What a test needs from outside the repository: programs it runs (curl,
// lftp, python3, the NAT tools…) and the bench tools `npm install` builds.
// Every test file asks here, at collection, and skips what cannot run on this
// machine; each missing program is named once in a run, with its Debian
// package. The assertions of a test that runs are never weakened.
//
// The program → package table is programs.json, the one list (an entry with a
// "file" is a package that installs no program: that file says it is there): .ci/run installs
// every package in it and sets MUXFTPD_TEST_REQUIRE_ALL=1, which turns each
// skip below into a failure, so CI runs every test. (bash, mkfifo and stat are
// taken as given: Debian's essential packages.)
import { createHash } from 'node:crypto';
import { accessSync, closeSync, constants, existsSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import { findBenchTool } from '../../bench/client/ftpload.js';
import programs from './programs.json' with { type: 'json' };

export type Program = keyof typeof programs;

/** Set (to anything but '' or '0') by .ci/run: a missing program fails its tests instead of skipping them. */
export const requireAllVar = 'MUXFTPD_TEST_REQUIRE_ALL';

/** Set by global-setup.ts: the directory in which a run's test files claim their skip lines. */
export const skipLinesVar = 'MUXFTPD_TEST_SKIP_LINES';

const found = new Map<Program, boolean>();
/** Lines this test file has dealt with: printed, or found claimed by another file of the run. */
const announced = new Set<string>();

/**
 * Whether `program` is an executable file on PATH, as `command -v` and spawn
 * find it; for an entry with a `file` (headers, a Python module), whether that
 * file exists. Nothing is run.
 */
export function installed(program: Program): boolean {
  let yes = found.get(program);
  if (yes === undefined) {
    const entry: { package: string; file?: string } = programs[program];
    yes = entry.file !== undefined ? existsSync(entry.file) : onPath(program);
    found.set(program, yes);
  }
  return yes;
}

/**
 * For describe.skipIf / it.skipIf: whether any of `needed` is not installed.
 * Prints `skipped: lftp not found (apt-get install lftp)` once per missing
 * program and run; throws instead when MUXFTPD_TEST_REQUIRE_ALL is set.
 */
export function missing(...needed: Program[]): boolean {
  const absent = needed.filter((p) => !installed(p));
  for (const p of absent) skipLine(`${p} not found`, [p]);
  return absent.length > 0;
}

/** Whether none of `alternatives` is installed (the test runs with any one of them); prints as missing() does. */
export function noneOf(...alternatives: Program[]): boolean {
  if (alternatives.some(installed)) return false;
  return missing(...alternatives);
}

/** For skipIf: whether any of the bench tools (native/bench, built by `npm install` with make and g++) is not built. */
export function notBuilt(...tools: ('ftpload' | 'bare')[]): boolean {
  const absent = tools.filter((tool) => {
    try {
      findBenchTool(tool);
      return false;
    } catch {
      return true;
    }
  });
  for (const tool of absent) skipLine(`${tool} is not built`, ['make', 'g++'], ', then npm install');
  return absent.length > 0;
}

function skipLine(what: string, needs: readonly Program[], after = ''): void {
  const packages = [...new Set(needs.map((p) => programs[p].package))].join(' ');
  const line = `${what} (apt-get install ${packages}${after})`;
  const strict = process.env[requireAllVar];
  if (strict !== undefined && strict !== '' && strict !== '0') {
    throw new Error(`${line}: ${requireAllVar} is set, so every test must run`);
  }
  // At collection, so vitest shows it under the name of the first file that skips for it.
  if (firstToSay(line)) console.warn(`skipped: ${line}`);
}

/**
 * Whether this test file is the first of the run to print `line`: it claims
 * the line by creating a file named for it in the run's directory, which only
 * one process can do. Without that directory (no global setup), once per file.
 */
function firstToSay(line: string): boolean {
  if (announced.has(line)) return false;
  announced.add(line);
  const dir = process.env[skipLinesVar];
  if (dir === undefined || dir === '') return true;
  try {
    closeSync(openSync(path.join(dir, createHash('sha256').update(line).digest('hex')), 'wx'));
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== 'EEXIST';
  }
}

function onPath(name: string): boolean {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return true;
    } catch {
      // Not in this directory.
    }
  }
  return false;
}
