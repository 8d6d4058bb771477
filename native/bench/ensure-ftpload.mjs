// postinstall: node-gyp builds ftpload with the addon (binding.gyp). When
// node-gyp-build found a prebuilt addon instead and skipped node-gyp, build
// ftpload with its own Makefile (g++ and make only).
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const built = ['build/Release/ftpload', 'build/bench/ftpload'].some((p) => existsSync(path.join(root, p)));
if (!built) {
  const r = spawnSync('make', ['-C', path.join(root, 'native/bench')], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.warn('muxftpd: ftpload (the benchmark load generator) did not build; muxftpd-bench needs it');
  }
}
