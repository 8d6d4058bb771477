// Prints 1 when ftpload can be built with TLS here, else 0: the C++ compiler
// finds OpenSSL 3's headers (Debian: libssl-dev) and links -lssl -lcrypto.
// Asked by binding.gyp's ftpload target and native/bench/Makefile, so that
// `npm install` on a host without libssl-dev still builds ftpload (without
// --tls, which then names the package to install). FTPLOAD_TLS=0|1 overrides.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

function probe() {
  const forced = process.env.FTPLOAD_TLS;
  if (forced === '0' || forced === '1') return forced;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ftpload-ssl-'));
  try {
    const src = '#include <openssl/ssl.h>\n' +
      '#if OPENSSL_VERSION_MAJOR < 3\n#error OpenSSL 3 needed\n#endif\n' +
      'int main() { return SSL_CTX_new(TLS_client_method()) == nullptr; }\n';
    const cxx = process.env.CXX || 'c++';
    const r = spawnSync(cxx, ['-x', 'c++', '-std=c++20', '-', '-o', path.join(dir, 'probe'), '-lssl', '-lcrypto'],
      { input: src, stdio: ['pipe', 'ignore', 'ignore'] });
    return r.status === 0 ? '1' : '0';
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(`${probe()}\n`);
