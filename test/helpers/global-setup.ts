// Once per vitest run, before any test file: a directory in which the files
// claim the skip lines of requires.ts, so that a missing program is named once
// in a run's output rather than once per file (each file runs in a process of
// its own, and these processes inherit the variable set here).
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { skipLinesVar } from './requires.js';

export default function setup(): () => void {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'muxftpd-skip-lines-'));
  process.env[skipLinesVar] = dir;
  return () => rmSync(dir, { recursive: true, force: true });
}
