// postinstall: node-gyp builds the bench tools (ftpload, the load generator;
// bare, the reference server) with the addon (binding.gyp). When
// node-gyp-build found a prebuilt addon instead and skipped node-gyp, build
// them with their own Makefile (g++ and make only).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const built = (tool) => [`build/Release/${tool}`, `build/bench/${tool}`].some((p) => existsSync(path.join(root, p)));
if (!built('ftpload') || !built('bare')) {
  const r = spawnSync('make', ['-C', path.join(root, 'native/bench')], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.warn('muxftpd: the bench tools (native/bench) did not build; muxftpd-bench and bench:compare need them');
  }
}
