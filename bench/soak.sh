#!/usr/bin/env bash
# bench/soak.sh - the soak (issue 7, section 4; not part of the test suite): both services in
# one bento process under a mixed load for a long time, and every interval (a minute) one CSV
# row with the process's RSS, open file descriptors, threads and CPU, the database's size, and
# each service's requests/s, p99 latency and errors over that interval. Flat columns = no leak
# of memory, descriptors or threads, and no slowdown. Figures go to docs/PERFORMANCE.md
# ("Soak") by hand.
#   bento (release build) serves vendorchat and yunshui on SQLite (default) or PostgreSQL,
#   pinned to CPU 0; two wrk processes on CPU 1, one per service, each with its own mix:
#     yunshui     bench/soak_yunshui.lua: material lists and reads, order list, orders created,
#                 moved PENDING -> PROCESSING -> CANCELLED (stock out and back) and deleted,
#                 material price updates; with the admin's bearer token
#     vendorchat  bench/soak_vendorchat.lua: chat messages, vendor reads and list, knowledge
#                 list, knowledge rows created and deleted again
#   Every write is undone within a few requests, so the data stays the same size and any
#   growth the CSV shows is the process's own. The per-client rate limit of yunshui is off and
#   so is the per-address connection limit (wrk is one client), as in the other benchmarks.
#   wrk runs in slices of one interval, so each row's p99 is that interval's alone.
# Usage: bench/soak.sh [MINUTES] [--pg URL] [--interval SECONDS] [--connections N]
#   MINUTES       how long to run (default 30); a row per interval, plus row 0 before the load
#   --pg URL      PostgreSQL instead of SQLite (also BENTO_BENCH_PG=URL): a database
#                 bento_soak_<pid> is created on that server and dropped at the end
#   --interval S  seconds per row (default 60)
#   --connections N  connections per service (default 8)
#   BENTO_SOAK_KEEP=1 keeps the data directory (database, bento's log, wrk's last output)
#   and prints its path; BENTO_BENCH_THREADS=N sets bento's request threads.
# Output: bench/results/soak-<engine>-<UTC time>.csv (the path is printed), and each row on
# stdout as it is written.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

minutes=30
interval=60
conns=8
pg=${BENTO_BENCH_PG:-}
usage() { sed -n '/^# Usage:/,/^# Output:/p' "$0" | sed 's/^# \{0,1\}//' | sed '$d'; }
while (($# > 0)); do
  case $1 in
    --pg) pg=${2:?--pg needs a URL}; shift 2 ;;
    --interval) interval=${2:?--interval needs seconds}; shift 2 ;;
    --connections) conns=${2:?--connections needs a number}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    [0-9]*) minutes=$1; shift ;;
    *) usage >&2; exit 2 ;;
  esac
done
for n in "$minutes" "$interval" "$conns"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "soak.sh: $n is not a positive whole number" >&2; exit 2; }
done
rounds=$(((minutes * 60 + interval - 1) / interval))

for tool in curl wrk taskset ${pg:+psql}; do
  command -v "$tool" >/dev/null || { echo "soak.sh needs $tool" >&2; exit 1; }
done
[[ -n ${BENTO_SOAK_KEEP:-} ]] && export BENTO_BENCH_KEEP=1
bench_init
bench_build
dir=$bench_dir

db_args=()
engine=sqlite
if [[ -n $pg ]]; then
  engine=pg
  bench_pg_db "$pg" "bento_soak_$$"
  pgurl=$bench_pg_url
  db_args=(--db "$pgurl")
fi

bench_serve "$bench_bin" "$dir" vendorchat,yunshui "${db_args[@]}"
pid=$bench_pid
vbase="http://127.0.0.1:$(bench_port "$dir" vendorchat)"
ybase="http://127.0.0.1:$(bench_port "$dir" yunshui)"

token=$(bench_login "$ybase")
[[ -n $token ]] || { echo "soak.sh: cannot log in to yunshui" >&2; cat "$dir/log"; exit 1; }
auth="Authorization: Bearer $token"

# 200 materials with plenty of stock, through the API
categories=(steel wood glass stone)
for n in $(seq 1 200); do
  if ((n % 2)); then name="鋼板 soak $n"; else name="木材 soak $n"; fi
  curl -sf -w '\n' -H "$auth" -H 'Content-Type: application/json' \
    -d "{\"name\":\"$name\",\"category\":\"${categories[n % 4]}\",\"specification\":\"S$n\",\"unit\":\"kg\",\"price\":$((n * 3)).5,\"stock\":100000000,\"minStock\":10}" \
    "$ybase/v1/materials" | tee -a "$dir/seed.log" | sed -n 's/^{"success":true,"data":{"id":"\([^"]*\)".*/\1/p'
done >"$dir/materials"
[[ $(wc -l <"$dir/materials") -eq 200 ]] || { echo "soak.sh: seeding materials failed" >&2; tail -c 2000 "$dir/seed.log" >&2; tail -20 "$dir/log" >&2; exit 1; }

# ---- samples ----
clk=$(getconf CLK_TCK)
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$pid/status"; }
threads() { awk '/^Threads:/ {print $2}' "/proc/$pid/status"; }
fds() { find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 | wc -l; }
db_kb() {
  if [[ $engine == pg ]]; then
    psql -Atq "$pgurl" -c "SELECT pg_database_size(current_database()) / 1024"
  else
    du -ck "$dir"/bento.db* | awk 'END {print $1}'
  fi
}
# field NAME from a report.lua RESULT line
field() { sed -n "s/.*RESULT.* $1=\([^ ]*\).*/\1/p" "$2"; }

mkdir -p bench/results
csv=bench/results/soak-$engine-$(date -u +%Y%m%dT%H%M%SZ).csv
echo "minute,elapsed_s,rss_kb,fds,threads,cpu_pct,db_kb,yunshui_rps,yunshui_p99_ms,yunshui_errors,vendorchat_rps,vendorchat_p99_ms,vendorchat_errors" >"$csv"

bench_machine
echo "bento: $("$bench_bin" version), vendorchat + yunshui on $engine, ${bench_cpu_bento[*]:-unpinned},"\
     "threads ${BENTO_BENCH_THREADS:-auto}; wrk ${bench_cpu_load[*]:-unpinned}, $conns connections per"\
     "service; $rounds rows of ${interval}s"
echo "results: $csv"

cat bench/soak_yunshui.lua bench/report.lua >"$dir/yunshui.lua"
cat bench/soak_vendorchat.lua bench/report.lua >"$dir/vendorchat.lua"

start=$(date +%s)
ticks=$(cpu_ticks)
row() { # minute, then the six load columns (empty before the load)
  local now t
  now=$(date +%s)
  t=$(cpu_ticks)
  printf '%s,%s,%s,%s,%s,%s,%s,%s\n' "$1" $((now - start)) "$(rss_kb)" "$(fds)" "$(threads)" \
    "$(awk -v d=$((t - ticks)) -v c="$clk" -v s="$interval" 'BEGIN {printf "%.0f", 100 * d / c / s}')" \
    "$(db_kb)" "$2" | tee -a "$csv"
  ticks=$t
}
row 0 ",,,,,"
ticks=$(cpu_ticks)

for m in $(seq 1 "$rounds"); do
  "${bench_cpu_load[@]}" wrk -t1 -c"$conns" -d"${interval}s" -H "$auth" -s "$dir/yunshui.lua" \
    "$ybase" -- "$dir/materials" >"$dir/wrk-y" 2>&1 &
  wy=$!
  "${bench_cpu_load[@]}" wrk -t1 -c"$conns" -d"${interval}s" -s "$dir/vendorchat.lua" \
    "$vbase" >"$dir/wrk-v" 2>&1 &
  wv=$!
  wait $wy || true
  wait $wv || true
  for out in "$dir/wrk-y" "$dir/wrk-v"; do
    grep -q RESULT "$out" || { echo "soak.sh: wrk gave no result:" >&2; cat "$out" >&2; exit 1; }
  done
  if ! kill -0 $pid 2>/dev/null; then
    echo "soak.sh: bento exited during minute $m; its log:" >&2
    tail -50 "$dir/log" >&2
    exit 1
  fi
  row "$m" "$(field rps "$dir/wrk-y"),$(field p99_ms "$dir/wrk-y"),$(field errors "$dir/wrk-y"),$(field rps "$dir/wrk-v"),$(field p99_ms "$dir/wrk-v"),$(field errors "$dir/wrk-v")"
done

# ---- the end: still healthy, and what moved ----
for b in "$vbase/health" "$ybase/v1/health"; do
  curl -sf "$b" >/dev/null || { echo "soak.sh: $b does not answer 200 after the soak" >&2; exit 1; }
done
echo "log lines at warn or error (count, message):"
grep '"level":"\(warn\|error\)"' "$dir/log" | sed 's/.*"msg":"\([^"]*\)".*/\1/' | sort | uniq -c || true
awk -F, 'NR == 3 {r = $3; f = $4; t = $5; py = $9; pv = $12}
         END {printf "from minute 1 to %d: RSS %+d kB (%d -> %d), fds %+d, threads %+d,"\
                     " p99 yunshui %s -> %s ms, vendorchat %s -> %s ms\n",
                     $1, $3 - r, r, $3, $4 - f, $5 - t, py, $9, pv, $12}' "$csv"
echo "results: $csv"
