#!/usr/bin/env bash
# bench/vendorchat_pg_ab.sh - vendorchat on PostgreSQL, several binaries measured in turn in
# the same minutes (docs/PERFORMANCE.md, "Read caches"):
#   GET /api/v1/vendors/1 and POST /chat/v1/message (bench/chat.lua), 64 connections each.
# Each binary gets a fresh database per round; bento and the PostgreSQL cluster share CPU 0
# (the postmaster is pinned, so every backend is), wrk runs on CPU 1. Rounds alternate the
# binaries, so a noisy minute hits all of them.
# Usage: BENTO_BENCH_PG_DSN=postgresql://... [BENTO_BENCH_PG_PID=<postmaster pid>] \
#        bench/vendorchat_pg_ab.sh ROUNDS SECONDS label=binary [label=binary ...]
# Extra serve arguments for one binary: label=binary,--threads,1
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=$1 secs=$2
shift 2
dsn=${BENTO_BENCH_PG_DSN:?set BENTO_BENCH_PG_DSN to a PostgreSQL URL}
pm=${BENTO_BENCH_PG_PID:-}
fmt='/Requests\/sec/{r=$2} / 50%/{m=$2} / 99%/{p=$2} END{printf "%s req/s, p50 %s, p99 %s", r, m, p}'

run() { # label binary[,args...]
  local label=$1 spec=$2 db=bench_ab_$RANDOM dir
  local IFS=,
  read -r -a argv <<<"$spec"
  unset IFS
  dir=$(mktemp -d /tmp/bento-ab-XXXXXX)
  psql -q "$dsn" -c "CREATE DATABASE $db" >/dev/null
  BENTO_ACCESS_LOG=0 BENTO_PER_IP_LIMIT=0 taskset -c 0 "${argv[0]}" serve --services vendorchat \
    --data-dir "$dir" --db "${dsn%/*}/$db" --listen vendorchat=127.0.0.1:0 \
    --port-file "$dir/ports" "${argv[@]:1}" >/dev/null 2>"$dir/log" &
  local pid=$!
  while [[ ! -s "$dir/ports" ]]; do
    kill -0 $pid 2>/dev/null || { cat "$dir/log"; exit 1; }
    sleep 0.1 # waiting for start-up in a benchmark script, not in a test
  done
  local base="http://127.0.0.1:$(awk '{print $3}' "$dir/ports")"
  curl -sf -o /dev/null "$base/api/v1/vendors/1"
  taskset -c 1 wrk -t1 -c64 -d2s "$base/api/v1/vendors/1" >/dev/null # warm-up
  echo "$label  vendor GET c=64: $(taskset -c 1 wrk -t1 -c64 -d"${secs}s" --latency \
    "$base/api/v1/vendors/1" | awk "$fmt")  [load $(cut -d' ' -f1 /proc/loadavg)]"
  taskset -c 1 wrk -t1 -c64 -d2s -s bench/chat.lua "$base/chat/v1/message" >/dev/null
  echo "$label  chat c=64:       $(taskset -c 1 wrk -t1 -c64 -d"${secs}s" --latency \
    -s bench/chat.lua "$base/chat/v1/message" | awk "$fmt")  [load $(cut -d' ' -f1 /proc/loadavg)]"
  kill $pid
  wait $pid || true
  psql -q "$dsn" -c "DROP DATABASE $db" >/dev/null
  rm -rf "$dir"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
  "$(uname -sr); PostgreSQL $(psql -Atc 'SHOW server_version' "$dsn")"
if [[ -n $pm ]]; then
  taskset -a -p -c 0 "$pm" >/dev/null
  trap 'taskset -a -p -c 0-$(($(nproc) - 1)) "$pm" >/dev/null' EXIT
fi
for r in $(seq "$rounds"); do
  echo "-- round $r"
  for lb in "$@"; do run "${lb%%=*}" "${lb#*=}"; done
done
