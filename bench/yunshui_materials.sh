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
# Every issue-8 figure on both engines in one command: bench/all.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
secs=${1:-10}
conns=${2:-64}
rows=${3:-100000}
runs=${BENTO_BENCH_RUNS:-target,status,rare,onechar,other,get}
bench_init
bench_build

dburl=sqlite:$bench_dir/data/bento.db
engine=sqlite
if [[ -n ${BENTO_BENCH_PG:-} ]]; then
  engine=pg
  bench_pg_db "$BENTO_BENCH_PG" "yunshui_bench_$$"
  dburl=$bench_pg_url
fi
bench_serve "$bench_bin" "$bench_dir/data" yunshui --db "$dburl"
pid=$bench_pid
base="http://127.0.0.1:$(bench_port "$bench_dir/data" yunshui)/v1"

bench_machine
echo "bento: $("$bench_bin" version), yunshui on $engine, pinned to CPU 0,"\
     "threads ${BENTO_BENCH_THREADS:-auto}; wrk on CPU 1, ${secs}s per run"

token=$(bench_login "${base%/v1}")
auth="Authorization: Bearer $token"

# the tables exist once the server is up (migrations run at start-up)
start=$(date +%s%N)
bench_seed_materials "$bench_bin" "$dburl" "$rows"
echo "seeded $rows materials in $((($(date +%s%N) - start) / 1000000)) ms;"\
     "database $(du -sh "$bench_dir" | cut -f1) (sqlite file and WAL; PostgreSQL: elsewhere)"

list="$base/materials?search=%E9%8B%BC&sort=price&order=desc&page=3&limit=20"
echo "first request of the list (its total counted, not cached): $(curl -sf -o /dev/null \
  -w '%{time_total}' -H "$auth" "$list") s"
echo "list pagination: $(curl -sf -H "$auth" "$list" |
  sed -n 's/.*"pagination":\({[^}]*}\).*/\1/p')"
id=$(curl -sf -H "$auth" "$list" | sed -n 's/^{"success":true,"data":{"materials":\[{"id":"\([^"]*\)".*/\1/p')

# w CONNECTIONS SCRIPT URL
w() { bench_wrk "$1" "$secs" -H "$auth" -s "$2" "$3"; }
cold() { echo "cold $(bench_cold "${base%/v1}" "$token" "$id" "$1")"; }
on() { [[ ",$runs," == *",$1,"* ]]; }
r=bench/report.lua
bench_lua rare bench/yunshui_rare.lua
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
    echo "list rare term, a new one each request (nothing cached), c=$c:  $(w "$c" "$bench_dir/rare.lua" "$base/materials")"
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
