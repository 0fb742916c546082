#!/usr/bin/env bash
# bench/yunshui_materials.sh - yunshui materials at 100,000 rows (not part of the test suite;
# results go to docs/apps/yunshui.md and docs/PERFORMANCE.md by hand, with the
# machine description this script prints).
#   bento (release) serves yunshui only, pinned to CPU 0 (one core); wrk on CPU 1.
#   The rate limit is off: wrk is one client address, and 100 requests/minute is the point of
#   the limit, not of this measurement.
#   Data: N materials (default 100,000) written by bench/yunshui_materials_seed.awk through
#   `bento sql` (SQLite and PostgreSQL alike: the sqlite3 shell lacks bento's search
#   tokenizer, so it cannot write the searched table), then VACUUM ANALYZE on PostgreSQL
#   and a WAL checkpoint on SQLite, as a server that has run for a while would have.
#   Runs (BENTO_BENCH_RUNS selects some, by name, comma-separated; default all):
#   target  GET /v1/materials?search=鋼&sort=price&order=desc&page=3&limit=20 at 1, 8 and
#           CONNECTIONS (target p99 <= 10 ms); its total is cached after the first request
#   status  the same with status=low_stock (a total never cached: counted every time)
#   rare    a different rare term on every request, B1xxxxx, which one material has
#           (bench/yunshui_rare.lua): the worst case, nothing cached (target p99 <= 20 ms)
#   onechar a 1-character term (鋼, 29 % of the rows) against a normal page (no filter), both
#           page 1 newest first, warm (wrk, totals cached) and cold (a write before each
#           request, so the total is counted: curl, 30 samples)
#   other   category=steel&sort=price, no filter at CONNECTIONS, page 2,000 (deep OFFSET)
#   get     GET /v1/materials/:id, for comparison with vendorchat's GET /api/v1/vendors/1
#   Every request carries the admin's bearer token.
# Usage: bench/yunshui_materials.sh [seconds-per-run] [connections] [rows]
#   BENTO_BENCH_PG=postgresql://user@host:port/db runs on PostgreSQL instead: a database
#   yunshui_bench_<pid> is created there (psql) and dropped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}
conns=${2:-64}
rows=${3:-100000}
scripts/bootstrap.sh --bench
runs=${BENTO_BENCH_RUNS:-target,status,rare,onechar,other,get}
for tool in curl ${BENTO_BENCH_PG:+psql}; do
  command -v "$tool" >/dev/null || { echo "yunshui_materials.sh needs $tool" >&2; exit 1; }
done
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBENTO_TESTS=OFF >/dev/null
ninja -C build/release bento >/dev/null

dir=$(mktemp -d /tmp/bento-bench-XXXXXX)
pid=
pgdb=
cleanup() {
  [[ -n $pid ]] && { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
  [[ -n $pgdb ]] && psql -q "$BENTO_BENCH_PG" -c "DROP DATABASE IF EXISTS $pgdb" >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT

db_args=()
engine=sqlite
if [[ -n ${BENTO_BENCH_PG:-} ]]; then
  engine=pg
  pgdb=yunshui_bench_$$
  psql -q "$BENTO_BENCH_PG" -c "CREATE DATABASE $pgdb" >/dev/null
  pgurl="${BENTO_BENCH_PG%/*}/$pgdb"
  db_args=(--db "$pgurl")
fi

BENTO_ACCESS_LOG=0 BENTO_PER_IP_LIMIT=0 BENTO_YUNSHUI_RATE_LIMIT=0 \
  taskset -c 0 build/release/bento serve --services yunshui --data-dir "$dir" "${db_args[@]}" \
  --listen yunshui=127.0.0.1:0 --port-file "$dir/ports" \
  ${BENTO_BENCH_THREADS:+--threads $BENTO_BENCH_THREADS} 2>"$dir/log" &
pid=$!
while [[ ! -s "$dir/ports" ]]; do
  kill -0 $pid 2>/dev/null || { cat "$dir/log"; exit 1; }
  sleep 0.1 # waiting for start-up in a benchmark script, not in a test
done
port=$(awk '{print $3}' "$dir/ports")
base="http://127.0.0.1:$port/v1"

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs),"\
     "$(free -g | awk '/Mem:/{print $2}') GiB; $(uname -sr)"
echo "bento: $(build/release/bento version), yunshui on $engine, pinned to CPU 0,"\
     "threads ${BENTO_BENCH_THREADS:-auto}; wrk on CPU 1, ${secs}s per run"

token=$(curl -sf -H 'Content-Type: application/json' \
  -d '{"username":"admin","password":"password123"}' "$base/auth/login" |
  sed -n 's/.*"token":"\([^"]*\)".*/\1/p')
auth="Authorization: Bearer $token"

# the tables exist once the server is up (migrations run at start-up); bento sql writes
# through the same tokenizer and triggers the server uses
start=$(date +%s%N)
dburl=${pgurl:-sqlite:$dir/bento.db}
LC_ALL=C awk -v n="$rows" -f bench/yunshui_materials_seed.awk | build/release/bento sql --db "$dburl"
if [[ $engine == pg ]]; then
  echo "VACUUM ANALYZE yunshui_materials" | build/release/bento sql --db "$dburl"
  # write the seeding's dirty pages now rather than in a checkpoint during the runs (needs
  # a superuser or pg_checkpoint; skipped otherwise)
  echo "CHECKPOINT" | build/release/bento sql --db "$dburl" 2>/dev/null || true
else
  # fold the WAL into the database file, as the regular checkpoints of a running server
  # would have done with data written over time
  echo "PRAGMA wal_checkpoint(TRUNCATE);" | build/release/bento sql --db "$dburl"
fi
echo "seeded $rows materials in $((($(date +%s%N) - start) / 1000000)) ms;"\
     "database $(du -sh "$dir" | cut -f1) (sqlite file and WAL; PostgreSQL: elsewhere)"

list="$base/materials?search=%E9%8B%BC&sort=price&order=desc&page=3&limit=20"
echo "first request of the list (its total counted, not cached): $(curl -sf -o /dev/null \
  -w '%{time_total}' -H "$auth" "$list") s"
echo "list pagination: $(curl -sf -H "$auth" "$list" |
  sed -n 's/.*"pagination":\({[^}]*}\).*/\1/p')"
id=$(curl -sf -H "$auth" "$list" | sed -n 's/^{"success":true,"data":{"materials":\[{"id":"\([^"]*\)".*/\1/p')

# w CONNECTIONS SCRIPT URL
w() {
  taskset -c 1 wrk -t1 -c"$1" -d"${secs}s" -H "$auth" -s "$2" "$3" | grep RESULT
}
# cold URL: 30 times, a write (a new revision stamp: no cached total survives it), then
# the request alone, timed; p50 and max in ms
cold() {
  local t=() i
  for i in $(seq 1 30); do
    curl -sf -o /dev/null -X PUT -H "$auth" -H 'Content-Type: application/json' \
      -d "{\"description\":\"冷測 $i\"}" "$base/materials/$id"
    t+=("$(curl -sf -o /dev/null -w '%{time_total}' -H "$auth" "$1")")
  done
  printf '%s\n' "${t[@]}" | sort -n | awk '{v[NR] = $1 * 1000} END {
    printf "cold p50_ms=%.2f max_ms=%.2f (of %d)\n", v[int((NR + 1) / 2)], v[NR], NR }'
}
on() { [[ ",$runs," == *",$1,"* ]]; }
r=bench/report.lua
cat bench/yunshui_rare.lua bench/report.lua >"$dir/rare.lua"
if on target; then
  for c in 1 8 "$conns"; do
    echo "list search+sort+page, c=$c:  $(w "$c" $r "$list")"
  done
fi
if on status; then
  for c in 1 8; do
    echo "list search+status (total counted every time), c=$c:  $(w "$c" $r "$list&status=low_stock")"
  done
fi
if on rare; then
  for c in 1 8; do
    echo "list rare term, a new one each request (nothing cached), c=$c:  $(w "$c" "$dir/rare.lua" "$base/materials")"
  done
fi
if on onechar; then
  one="$base/materials?search=%E9%8B%BC"
  echo "list 1-char term (鋼) page 1, warm, c=1:  $(w 1 $r "$one")"
  echo "list no filter page 1, warm, c=1:  $(w 1 $r "$base/materials")"
  echo "list 1-char term (鋼) page 1, $(cold "$one")"
  echo "list no filter page 1, $(cold "$base/materials")"
  echo "list 1-char term (a) page 1, $(cold "$base/materials?search=a")"
fi
if on other; then
  echo "list category+sort, c=1:  $(w 1 $r "$base/materials?category=steel&sort=price&page=5")"
  echo "list no filter, c=$conns:  $(w "$conns" $r "$base/materials")"
  echo "list no filter page 2000 (OFFSET 39980), c=1:  $(w 1 $r "$base/materials?page=2000&limit=20")"
fi
if on get; then
  curl -sf -H "$auth" "$base/materials/$id" >/dev/null
  echo "GET /v1/materials/:id, c=$conns:  $(w "$conns" $r "$base/materials/$id")"
fi
echo "RSS after runs: $(awk '/VmRSS/{print $2, $3}' /proc/$pid/status)"
