// One config for unit, integration and fuzz tests. Integration files each
// start a real server with a native addon: the forks pool gives every file its
// own process, so a native crash costs one file, and each file's fd and thread
// baseline is its own. The global setup lets a test skipped for a missing
// program be named once per run (test/helpers/requires.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
