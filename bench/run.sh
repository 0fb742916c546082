#!/usr/bin/env bash
# bench/run.sh - vendorchat benchmarks (not part of the test suite; results go to
# docs/PERFORMANCE.md by hand, with the machine description this script prints).
#   bento runs pinned to CPU 0 (one core), wrk pinned to CPU 1.
#   1. GET /api/v1/vendors/1                      (target >= 40,000 req/s)
#   2. POST /chat/v1/message on the seed data     (target p99 <= 5 ms)
#   3. POST /chat/v1/message with 10,000 extra knowledge rows (target p99 <= 20 ms)
#   4. idle RSS after start-up                    (target <= 30 MB)
# Usage: bench/run.sh [seconds-per-run] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-64}
scripts/bootstrap.sh --bench
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBENTO_TESTS=OFF >/dev/null
ninja -C build/release bento >/dev/null

dir=$(mktemp -d /tmp/bento-bench-XXXXXX)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
BENTO_ACCESS_LOG=0 BENTO_PER_IP_LIMIT=0 taskset -c 0 build/release/bento serve --services vendorchat \
  --data-dir "$dir" --listen vendorchat=127.0.0.1:0 --port-file "$dir/ports" \
  ${BENTO_BENCH_THREADS:+--threads $BENTO_BENCH_THREADS} 2>"$dir/log" &
pid=$!
while [[ ! -s "$dir/ports" ]]; do
  kill -0 $pid 2>/dev/null || { cat "$dir/log"; exit 1; }
  sleep 0.1 # waiting for start-up in a benchmark script, not in a test
done
port=$(awk '{print $3}' "$dir/ports")
base="http://127.0.0.1:$port"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs),"\
     "$(free -g | awk '/Mem:/{print $2}') GiB; $(uname -sr)"
echo "bento: $(build/release/bento version), pinned to CPU 0, threads ${BENTO_BENCH_THREADS:-auto (1)};"\
     "wrk on CPU 1, ${secs}s per run"
echo "idle RSS: $(awk '/VmRSS/{print $2, $3}' /proc/$pid/status)"

w() { taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" -s bench/report.lua "$@" | grep RESULT; }
# chat latency is reported at a moderate load (8 connections) and at saturation ($conns)
wc() { local c=$1; shift; taskset -c 1 wrk -t1 -c"$c" -d"${secs}s" "$@" | grep RESULT; }

curl -sf "$base/api/v1/vendors/1" >/dev/null
echo "GET /api/v1/vendors/1, c=$conns:  $(w "$base/api/v1/vendors/1")"
cat bench/chat.lua bench/report.lua > "$dir/chat.lua"
cat bench/chat_mixed.lua bench/report.lua > "$dir/mixed.lua"
for c in 8 "$conns"; do
  echo "POST /chat/v1/message seed, c=$c:        $(wc "$c" -s "$dir/chat.lua" "$base/chat/v1/message")"
  echo "POST /chat/v1/message seed mixed, c=$c:  $(wc "$c" -s "$dir/mixed.lua" "$base/chat/v1/message")"
done

# 10,000 more knowledge rows through the import API, 500 per request
for batch in $(seq 0 19); do
  {
    printf '['
    for i in $(seq 0 499); do
      n=$((batch * 500 + i))
      [[ $i -gt 0 ]] && printf ','
      printf '{"question_summary":"第%d號社區的公共設施使用規定與管理費問題%d","answer":"社區%d的管理規定請洽管理室，分機%d。","scope":"global","keywords":["社區%d","管理費"]}' \
        "$n" "$n" "$n" "$n" "$n"
    done
    printf ']'
  } > "$dir/batch.json"
  curl -sf -X POST -H 'Content-Type: application/json' --data-binary @"$dir/batch.json" \
    "$base/api/v1/knowledge/import" >/dev/null
done
curl -sf -X POST -H 'Content-Type: application/json' \
  -d '{"message":"每月繳費日期是什麼時候？","vendor_id":1}' "$base/chat/v1/message" >/dev/null
for c in 8 "$conns"; do
  echo "POST /chat/v1/message 10k rows, c=$c:        $(wc "$c" -s "$dir/chat.lua" "$base/chat/v1/message")"
  echo "POST /chat/v1/message 10k rows mixed, c=$c:  $(wc "$c" -s "$dir/mixed.lua" "$base/chat/v1/message")"
done
echo "RSS after runs: $(awk '/VmRSS/{print $2, $3}' /proc/$pid/status)"
