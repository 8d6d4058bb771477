#!/usr/bin/env bash
# How many operations per second one Locust worker carries, beside ftpload
# alone, on the same server and the same work (docs/many-hosts.md):
#   1. muxftpd-bench alone: SESSIONS sessions in one ftpload thread, COUNT operations;
#   2. a Locust master and ONE worker, one user running the same ftpload
#      (--stream-ms 100) and firing a Locust request per sample.
# ftpload's load goes on at its own pace while the worker reads; the worker
# has carried the run when it has fired the last sample. Printed: the native
# run's ops/s; under Locust, ftpload's own ops/s and the worker's (operations ÷
# the seconds from ftpload's start to its last sample fired), samples/s, and
# the worker process's CPU seconds meanwhile.
#
#   bench/locust/carry.sh HOST PORT SCENARIO SESSIONS COUNT [more ftpload flags]
#   e.g. bench/locust/carry.sh 127.0.0.1 2121 noop 8 200000
#        bench/locust/carry.sh 127.0.0.1 2121 small 8 20000 --file /small.bin
# The server must be running; everything started here is stopped by its pid.
set -euo pipefail
host=$1 port=$2 scenario=$3 sessions=$4 count=$5
shift 5
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

file_args=()
for ((i = 1; i <= $#; i++)); do
  if [[ ${!i} == --file ]]; then j=$((i + 1)); file_args=(--file "${!j}"); fi
done
node "$root/dist/bench/client/cli.js" --host "$host" --port "$port" --scenario "$scenario" \
  --concurrency "$sessions" --threads 1 --count "$count" --duration 600 --quiet --json "$@" >"$tmp/native.json"
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`native alone:  ${r.ops} ops in ${r.elapsedS} s = ${r.opsPerSec} ops/s; errors ${JSON.stringify(r.errors)}`);' "$tmp/native.json"

mkdir "$tmp/sums"
# The master's port lies below the ephemeral range: a port from it may still be
# held by one of ftpload's connections, or taken by the worker's own connect
# while the master is not listening yet (a TCP self-connect).
mport=$(python3 -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
for _ in range(100):
    p = random.randrange(10000, low)
    try:
        socket.socket().bind(("127.0.0.1", p))
        print(p)
        break
    except OSError:
        pass
')
# The flags shell-quoted as the locustfile splits them (shlex), so one holding a space stays one.
locust_args=$(python3 -c 'import shlex, sys; print(shlex.join(sys.argv[1:]))' "$@")
export MUXFTPD_LOCUST_SCENARIO=$scenario MUXFTPD_LOCUST_SESSIONS=$sessions MUXFTPD_LOCUST_COUNT=$count \
  MUXFTPD_LOCUST_SUMMARIES=$tmp/sums MUXFTPD_LOCUST_ARGS=$locust_args
unset MUXFTPD_LOCUST_FILE
if [[ ${#file_args[@]} -gt 0 ]]; then export MUXFTPD_LOCUST_FILE=${file_args[1]}; fi
locust -f "$here/locustfile.py" --master --master-bind-host 127.0.0.1 --master-bind-port "$mport" --headless \
  --expect-workers 1 --users 1 --spawn-rate 1 --run-time 600s --host "ftp://$host:$port" >"$tmp/master.log" 2>&1 &
master=$!
pids+=("$master")
locust -f "$here/locustfile.py" --worker --master-host 127.0.0.1 --master-port "$mport" >"$tmp/worker.log" 2>&1 &
pids+=($!)
for ((i = 0; i < 6000; i++)); do
  [[ -n $(ls "$tmp/sums") ]] && break  # a summary appears whole (renamed into place; ls skips the .tmp)
  kill -0 "$master" 2>/dev/null || { cat "$tmp/master.log" >&2; exit 1; }
  sleep 0.1
done
node -e '
  const fs = require("fs");
  const dir = process.argv[1];
  const s = JSON.parse(fs.readFileSync(`${dir}/${fs.readdirSync(dir).find((f) => f.endsWith(".json"))}`, "utf8"));
  const l = s.locust;
  console.log(`under Locust:  ftpload ${s.ops} ops in ${s.elapsed_s.toFixed(3)} s = ${(s.ops / s.elapsed_s).toFixed(1)} ops/s; ` +
    `the worker reported ${l.samples} samples in ${l.seconds} s = ${(s.ops / l.seconds).toFixed(1)} ops/s, ` +
    `${(l.samples / l.seconds).toFixed(0)} samples/s, using ${l.cpu_s} s of CPU meanwhile ` +
    `(${(l.cpu_s * 1e6 / l.samples).toFixed(1)} µs per sample); errors ${JSON.stringify(s.errors)}`);' "$tmp/sums"
