#!/usr/bin/env bash
# npm run test:asan: the addon built with AddressSanitizer + UndefinedBehavior-
# Sanitizer (binding.gyp's sanitize% variable), and the integration suite run
# against it. The build happens in a copy of the tree, so that the normal
# build/ (and anyone running tests on it meanwhile) is never touched and
# nothing needs restoring; prebuilds are left out of the copy, so the
# sanitized build is the one node-gyp-build loads.
#
# node is not instrumented: libasan is preloaded, leak detection is off (node
# and V8 keep allocations to exit by design), timeouts are multiplied.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/muxftpd-asan.XXXXXX")
trap 'rm -rf "$work"' EXIT

source "$repo/scripts/copy-tree.sh"
copy_tree "$work"
cd "$work"
echo "test:asan: building the addon with -fsanitize=address,undefined in $work"
node "$repo/node_modules/node-gyp/bin/node-gyp.js" rebuild --sanitize=address -j max >build.log 2>&1 || {
  tail -40 build.log
  exit 1
}

libasan=$(g++ -print-file-name=libasan.so)
export LD_PRELOAD="$libasan"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:allow_user_segv_handler=1:detect_odr_violation=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
# The packaging test installs from the registry cache and builds nothing native: not useful here.
node "$repo/node_modules/vitest/vitest.mjs" run test/integration --exclude 'test/integration/ops-pack.test.ts' \
  --testTimeout=120000 --hookTimeout=180000 "$@"
