// A shell command's output for the record (machine facts, server versions):
// trimmed stdout, or '' when the command fails. Never for anything a run
// depends on.

import { execSync } from 'node:child_process';

export function sh(cmd: string): string {
  try {
    return execSync(cmd, { encoding: 'utf8', shell: '/bin/bash', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}
