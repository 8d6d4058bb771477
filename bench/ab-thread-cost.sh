#!/usr/bin/env bash
# A/B of two muxftpd builds by CPU per operation and thread class (issue 22):
# rounds interleaved, the order reversed every other round, a fresh server per
# run at --threads 1, muxftpd-bench --pid for the thread classes. One row per
# run: build scenario round ops/s JS worker acceptor files rest total (µs/op)
# JS÷worker errors. The medians per build and scenario are what to compare.
#   bench/ab-thread-cost.sh OUTDIR ROUNDS "DIR_A DIR_B" "login small persistent"
# Each DIR is a built checkout (dist/cli.js); the bench client is this one's.
# DIR:floor runs that checkout's bench/js-floor.mjs instead (the do-least
# decider on the same engine: the floor of the JS thread's cost per op).
# DUR (seconds per run, 5) and ROOT (served directory with small.bin) may be set.
set -euo pipefail
out=$1 rounds=$2
read -r -a builds <<<"$3"
read -r -a scenarios <<<"$4"
dur=${DUR:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
bench=$here/dist/bench/client/cli.js
root=${ROOT:-/tmp/muxftpd-bench-root}
port=${PORT:-2391}
mkdir -p "$out" "$root"
[[ -e $root/small.bin ]] || head -c 4096 /dev/urandom >"$root/small.bin"
for r in $(seq 1 "$rounds"); do
  order=("${builds[@]}")
  if ((r % 2 == 0)); then mapfile -t order < <(printf '%s\n' "${builds[@]}" | tac); fi
  for b in "${order[@]}"; do
    for s in "${scenarios[@]}"; do
      dir=${b%:floor} main=$dir/dist/cli.js name=$(basename "$dir")
      [[ $b == *:floor ]] && main=$dir/bench/js-floor.mjs name=$name-floor
      node --max-semi-space-size=4 "$main" --host 127.0.0.1 --port $port --pasv-ports 40000-44999 --root "$root" \
        --log-level error --max-clients 50000 --clients-per-thread 50000 --threads 1 >"$out/server.log" 2>&1 &
      pid=$!
      sleep 1.2
      extra=()
      [[ $s == login ]] || extra=(--file small.bin)
      json=$out/$name-$s-r$r.json
      node "$bench" --scenario "$s" --host 127.0.0.1 --port $port --concurrency 100 --duration "$dur" "${extra[@]}" \
        --pid $pid --json --quiet --threads 1 >"$json" 2>"$out/bench.err"
      kill $pid
      wait $pid 2>/dev/null || true
      node -e '
        const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const c = r.threadCpu, p = c.perOp;
        console.log([...process.argv.slice(2), r.opsPerSec, p.js, p.worker, p.acceptor, p.files, p.rest, c.totalPerOp, c.jsPerWorker, r.errorTotal].join("\t"));
      ' "$json" "$name" "$s" "$r" | tee -a "$out/rows.tsv"
      sleep 1
    done
  done
done
