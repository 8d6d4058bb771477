#!/usr/bin/env bash
# npm run test:asan / test:tsan: the addon built with a sanitizer (binding.gyp's
# sanitize% variable), and the integration suite run against it.
#   scripts/test-sanitized.sh address [vitest args]   AddressSanitizer + UBSan
#   scripts/test-sanitized.sh thread  [vitest args]   ThreadSanitizer; the
#       standalone native tests (make -C native/test tsan) run first
# The build happens in a copy of the tree, so that the normal build/ (and
# anyone running tests on it meanwhile) is never touched and nothing needs
# restoring; prebuilds are left out of the copy, so the sanitized build is the
# one node-gyp-build loads.
#
# node is not instrumented: the sanitizer's runtime is preloaded into the test
# workers (test/integration/helpers/clients.ts passes it on to node children only),
# and timeouts are multiplied. ASan: leak detection is off (node and V8 keep
# allocations to exit by design). TSan: scripts/tsan.supp holds the
# suppressions for frames entirely inside node, libuv and V8, which TSan cannot
# see synchronize, never anything of muxftpd's own; scripts/tsan-syscall-close.c
# shows it the file descriptors libuv closes.
set -euo pipefail
sanitizer=${1:-}
case "$sanitizer" in
  address) name=asan flags='-fsanitize=address,undefined' ;;
  thread) name=tsan flags='-fsanitize=thread' ;;
  *)
    echo "usage: $0 address|thread [vitest args]" >&2
    exit 2
    ;;
esac
shift
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/muxftpd-$name.XXXXXX")
trap 'rm -rf "$work"' EXIT

source "$repo/scripts/copy-tree.sh"
copy_tree "$work"
cd "$work"
if [[ $sanitizer == thread ]]; then
  echo "test:tsan: the standalone native tests under ThreadSanitizer"
  make -C native/test tsan
fi
echo "test:$name: building the addon with $flags in $work"
node "$repo/node_modules/node-gyp/bin/node-gyp.js" rebuild --sanitize="$sanitizer" -j max >build.log 2>&1 || {
  tail -40 build.log
  exit 1
}

if [[ $sanitizer == address ]]; then
  runtime=$(g++ -print-file-name=libasan.so)
  # Reports go to files as well: a vitest worker that aborts takes its stderr
  # with it ("Worker exited unexpectedly"), the files are printed below.
  export ASAN_OPTIONS="log_path=$work/report:detect_leaks=0:abort_on_error=1:halt_on_error=1:allow_user_segv_handler=1:detect_odr_violation=0"
  export UBSAN_OPTIONS="log_path=$work/report:print_stacktrace=1:halt_on_error=1"
  timeouts=(--testTimeout=120000 --hookTimeout=180000)
else
  # Preloaded after libtsan: lets TSan see libuv's syscall(SYS_close) (see the file).
  gcc -shared -fPIC -O2 -Wall -o tsan-syscall-close.so "$repo/scripts/tsan-syscall-close.c" -ldl
  runtime="$(g++ -print-file-name=libtsan.so) $work/tsan-syscall-close.so"
  # addr2line: libtsan's own symbolizer names no frame of the addon.
  addr2line=$(command -v addr2line)
  export TSAN_OPTIONS="log_path=$work/report:halt_on_error=1:second_deadlock_stack=1:suppressions=$repo/scripts/tsan.supp:external_symbolizer_path=$addr2line"
  timeouts=(--testTimeout=240000 --hookTimeout=360000)
fi
# The runtime goes only into the test workers, the processes that load the
# addon: vitest's own process loads rolldown's uninstrumented (Rust) binding,
# whose atomics TSan cannot see.
cat >vitest.sanitized.config.ts <<END
import { mergeConfig } from 'vitest/config';
import base from './vitest.config.ts';
export default mergeConfig(base, { test: { env: { LD_PRELOAD: '$runtime' } } });
END
# The packaging test installs from the registry cache and builds nothing native: not useful here.
excludes=(--exclude 'test/integration/ops-pack.test.ts')
# The loop-failure test closes a worker's epoll fd from another thread on
# purpose, to make that worker's loop fail: ThreadSanitizer rightly reports
# that as the race it is (and halts). The ASan run keeps it.
if [[ $sanitizer == thread ]]; then excludes+=(--exclude 'test/integration/loop-failure.test.ts'); fi
status=0
node "$repo/node_modules/vitest/vitest.mjs" run test/integration --config vitest.sanitized.config.ts \
  "${excludes[@]}" "${timeouts[@]}" "$@" || status=$?
for report in "$work"/report.*; do
  [[ -e $report ]] || continue
  echo "test:$name: sanitizer output $report:"
  cat "$report"
done
exit "$status"
