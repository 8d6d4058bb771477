// The helper that skips tests whose outside program is missing
// (test/helpers/requires.ts): it looks programs up on PATH, prints one line
// per missing program and run naming its Debian package, and fails instead
// of skipping when MUXFTPD_TEST_REQUIRE_ALL is set (.ci/run).
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import programs from '../helpers/programs.json' with { type: 'json' };

let bin = '';

/** A fresh copy of the helper: it keeps its answers and printed lines for the life of the process. */
async function helper(): Promise<typeof import('../helpers/requires.js')> {
  vi.resetModules();
  return import('../helpers/requires.js');
}

beforeEach(() => {
  bin = mkdtempSync(path.join(os.tmpdir(), 'muxftpd-requires-'));
  const lftp = path.join(bin, 'lftp');
  writeFileSync(lftp, '#!/bin/sh\n');
  chmodSync(lftp, 0o755);
  writeFileSync(path.join(bin, 'curl'), 'not executable');
  vi.stubEnv('PATH', bin);
  vi.stubEnv('MUXFTPD_TEST_REQUIRE_ALL', '');
  // Not the run's own directory: this file's lines are not the run's.
  vi.stubEnv('MUXFTPD_TEST_SKIP_LINES', '');
});

afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  rmSync(bin, { recursive: true, force: true });
});

describe('test/helpers/requires.ts', () => {
  it('finds an executable on PATH, and not a file that cannot run', async () => {
    const { installed } = await helper();
    expect(installed('lftp')).toBe(true);
    expect(installed('curl')).toBe(false);
  });

  it('takes an entry with a file (headers, a Python module) as installed when that file exists, PATH aside', async () => {
    const { installed } = await helper();
    expect(installed('libssl-dev')).toBe(existsSync(programs['libssl-dev'].file));
    expect(programs['libssl-dev'].package).toBe('libssl-dev');
  });

  it('prints one line per missing program, naming its package, once per file', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { missing } = await helper();
    expect(missing('lftp')).toBe(false);
    expect(missing('lftp', 'ss', 'curl')).toBe(true);
    expect(missing('ss')).toBe(true);
    expect(warn.mock.calls).toEqual([
      ['skipped: ss not found (apt-get install iproute2)'],
      ['skipped: curl not found (apt-get install curl)'],
    ]);
  });

  it('prints a line once per run: the first test file to claim it in the run directory prints it', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    vi.stubEnv('MUXFTPD_TEST_SKIP_LINES', mkdtempSync(path.join(bin, 'run-')));
    const first = await helper();
    expect(first.missing('curl')).toBe(true);
    const second = await helper();
    expect(second.missing('curl', 'ss')).toBe(true);
    expect(warn.mock.calls).toEqual([
      ['skipped: curl not found (apt-get install curl)'],
      ['skipped: ss not found (apt-get install iproute2)'],
    ]);
  });

  it('noneOf is missing only when every alternative is', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { noneOf } = await helper();
    expect(noneOf('nft', 'lftp')).toBe(false);
    expect(noneOf('nft', 'iptables')).toBe(true);
  });

  it('fails instead of skipping when MUXFTPD_TEST_REQUIRE_ALL is set', async () => {
    vi.stubEnv('MUXFTPD_TEST_REQUIRE_ALL', '1');
    const { missing } = await helper();
    expect(missing('lftp')).toBe(false);
    expect(() => missing('curl')).toThrow('curl not found (apt-get install curl): MUXFTPD_TEST_REQUIRE_ALL is set');
  });

  it('names a Debian package for every program (.ci/run installs them from this table)', () => {
    for (const [program, entry] of Object.entries(programs)) {
      expect(entry.package, program).toMatch(/^[a-z0-9][a-z0-9+.-]+$/);
      expect(entry.for.length, program).toBeGreaterThan(0);
    }
  });
});
