#!/usr/bin/env bash
# bench/all.sh - every issue-8 figure in one command, on SQLite and (with --pg) on PostgreSQL,
# as one compact table (not part of the test suite; figures go to docs/PERFORMANCE.md by hand,
# with the machine line this script prints). With --before, the same figures against another
# binary in the same minutes, alternating, each binary with its own database seeded alike.
#   Each figure: req/s, p50 and p99 from wrk, and the CPU time (bento's, and its PostgreSQL
#   backends') per request, which holds when the machine is busy with other work and
#   throughput does not.
#   bento (release) serves vendorchat and yunshui, pinned to CPU 0; a local PostgreSQL has its
#   postmaster pinned to CPU 0 as well (its new backends inherit it; restored at exit); wrk on
#   CPU 1. Data: yunshui with ROWS materials (bench/yunshui_materials_seed.awk), vendorchat's
#   seed data. Figures:
#     vendor GET      GET /api/v1/vendors/1, 64 connections (req/s)
#     chat c=8, c=64  POST /chat/v1/message, the document's question (p99)
#     material GET    GET /v1/materials/:id with a bearer token, 64 connections (req/s)
#     rare c=1, c=8   the materials list with a different rare term on every request
#                     (bench/yunshui_rare.lua: nothing cached; p99)
#     1-char / page   GET /v1/materials?search=鋼 (29 % of the rows) and the unfiltered page 1,
#                     warm (wrk, 1 connection, totals cached; p50) and cold (the first request
#                     after a write: 30 samples with curl; p50 and max)
#     mixed           GET /v1/materials/:id at 8 connections alone, then while 4 connections
#                     run an expensive list (search=鋼&status=low_stock sorted by price: its
#                     total is counted on every request); p99, and the ratio of the two
# Usage: bench/all.sh [--pg URL] [--before BINARY] [--secs N] [--rows N] [--rounds N]
#                     [--engines sqlite,pg]
#   --pg URL         also on PostgreSQL (also BENTO_BENCH_PG=URL): a database per binary is
#                    created on that server and dropped at the end
#   --before BINARY  also measure BINARY (e.g. an older build), alternating with this tree's
#   --secs N         seconds per wrk run (default 5)
#   --rows N         materials (default 100000)
#   --rounds N       times each figure is measured per binary (default 1)
#   --engines LIST   sqlite, pg or both (default: sqlite, and pg when --pg is given)
#   BENTO_BENCH_THREADS=N sets bento's request threads; BENTO_BENCH_KEEP=1 keeps the scratch
#   directory (logs, raw results).
# Output: the table on stdout; the raw results (one line per run) in the scratch directory's
# results.tsv, printed at the end when BENTO_BENCH_KEEP is set.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh

pg=${BENTO_BENCH_PG:-}
before=
secs=5
rows=100000
rounds=1
engines=
usage() { sed -n '/^# Usage:/,/^# Output:/p' "$0" | sed 's/^# \{0,1\}//' | sed '$d'; }
while (($# > 0)); do
  case $1 in
    --pg) pg=${2:?--pg needs a URL}; shift 2 ;;
    --before) before=${2:?--before needs a binary}; shift 2 ;;
    --secs) secs=${2:?}; shift 2 ;;
    --rows) rows=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --engines) engines=${2:?}; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
done
for n in "$secs" "$rows" "$rounds"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "all.sh: $n is not a positive whole number" >&2; exit 2; }
done
engines=${engines:-sqlite${pg:+,pg}}
[[ ,$engines, != *,pg,* || -n $pg ]] || { echo "all.sh: PostgreSQL needs --pg URL" >&2; exit 2; }
if [[ -n $before ]]; then
  before=$(realpath "$before")
  [[ -x $before ]] || { echo "all.sh: $before is not an executable" >&2; exit 2; }
fi
for tool in curl wrk taskset ${pg:+psql}; do
  command -v "$tool" >/dev/null || { echo "all.sh needs $tool" >&2; exit 1; }
done

bench_init
bench_build
declare -A bin=([after]=$bench_bin)
labels=(after)
if [[ -n $before ]]; then
  bin[before]=$before
  labels=(after before)
fi
results=$bench_dir/results.tsv
: >"$results"

bench_machine
for l in "${labels[@]}"; do
  echo "$l: ${bin[$l]} ($("${bin[$l]}" version))"
done
echo "${secs}s per wrk run, $rounds round(s), $rows materials, threads ${BENTO_BENCH_THREADS:-auto}"

bench_lua rare bench/yunshui_rare.lua
bench_lua chat bench/chat.lua
r=bench/report.lua

# ---- per engine: a server per binary, each with its own seeded database ----

declare -A vbase ybase token mid pid pgname
expensive="search=%E9%8B%BC&status=low_stock&sort=price&order=desc"

start_servers() { # engine
  local e=$1 l dir url t0
  for l in "${labels[@]}"; do
    dir=$bench_dir/$e-$l
    if [[ $e == pg ]]; then
      bench_pg_db "$pg" "bento_all_${l}_$$"
      url=$bench_pg_url
    else
      url=sqlite:$dir/bento.db
    fi
    pgname[$l]=
    [[ $e == pg ]] && pgname[$l]=bento_all_${l}_$$
    bench_serve "${bin[$l]}" "$dir" vendorchat,yunshui --db "$url"
    pid[$l]=$bench_pid
    vbase[$l]="http://127.0.0.1:$(bench_port "$dir" vendorchat)"
    ybase[$l]="http://127.0.0.1:$(bench_port "$dir" yunshui)"
    token[$l]=$(bench_login "${ybase[$l]}")
    [[ -n ${token[$l]} ]] || { echo "all.sh: $l cannot log in to yunshui" >&2; exit 1; }
    t0=$(date +%s)
    bench_seed_materials "${bin[$l]}" "$url" "$rows"
    mid[$l]=$(curl -sf -H "Authorization: Bearer ${token[$l]}" \
      "${ybase[$l]}/v1/materials?search=%E9%8B%BC&limit=1" |
      sed -n 's/^{"success":true,"data":{"materials":\[{"id":"\([^"]*\)".*/\1/p')
    [[ -n ${mid[$l]} ]] || { echo "all.sh: $l has no materials after seeding" >&2; exit 1; }
    echo "$e $l: seeded $rows materials in $(($(date +%s) - t0)) s"
  done
}

stop_servers() {
  local l
  for l in "${labels[@]}"; do
    kill "${pid[$l]}" 2>/dev/null || true
  done
}

# the CPU time of LABEL's bento and, on PostgreSQL, of its backends (clock ticks)
cpu_ticks() {
  local backends=
  [[ -n ${pgname[$1]} ]] && backends=$(bench_pg_backends "$pg" "${pgname[$1]}")
  bench_ticks "${pid[$1]}" $backends
}
clk=$(getconf CLK_TCK)

# the binaries take turns going first, from one run to the next
turn=0

# record ENGINE FIGURE LABEL LINE: a RESULT (or bench_cold) line into results.tsv
record() {
  local f
  printf '%s\t%s\t%s' "$1" "$2" "$3" >>"$results"
  for f in rps p50_ms p99_ms max_ms errors cpu_us; do
    printf '\t%s' "$(sed -n "s/.*\<$f=\([^ ]*\).*/\1/p" <<<"$4")" >>"$results"
  done
  printf '\n' >>"$results"
}

# fig ENGINE FIGURE FUNCTION: FUNCTION LABEL prints one result line; run per round and
# label. A wrk line gets cpu_us: the CPU time of bento (and its PostgreSQL backends) per
# request over the run - what a request costs, whatever else the machine was doing.
fig() {
  local e=$1 f=$2 fn=$3 round l order t0 line n
  for round in $(seq 1 "$rounds"); do
    order=("${labels[@]}")
    if ((${#labels[@]} > 1 && turn++ % 2)); then order=("${labels[1]}" "${labels[0]}"); fi
    for l in "${order[@]}"; do
      t0=$(cpu_ticks "$l")
      # once more after a failed run (wrk said why on stderr)
      line=$($fn "$l") || {
        t0=$(cpu_ticks "$l")
        line=$($fn "$l")
      }
      n=$(bench_field requests "$line")
      # (not beside the expensive lists: their CPU would count as the GET's)
      [[ -n $n && $n -gt 0 && $fn != mixed_loaded ]] &&
        line="$line cpu_us=$(awk -v t=$(($(cpu_ticks "$l") - t0)) -v c="$clk" -v n="$n" \
          'BEGIN {printf "%.1f", t * 1e6 / c / n}')"
      record "$e" "$f" "$l" "$line"
    done
  done
}

auth() { echo "Authorization: Bearer ${token[$1]}"; }
vendor_get() { bench_wrk 64 "$secs" -s $r "${vbase[$1]}/api/v1/vendors/1"; }
chat8() { bench_wrk 8 "$secs" -s "$bench_dir/chat.lua" "${vbase[$1]}/chat/v1/message"; }
chat64() { bench_wrk 64 "$secs" -s "$bench_dir/chat.lua" "${vbase[$1]}/chat/v1/message"; }
material_get() { bench_wrk 64 "$secs" -H "$(auth "$1")" -s $r "${ybase[$1]}/v1/materials/${mid[$1]}"; }
rare1() { bench_wrk 1 "$secs" -H "$(auth "$1")" -s "$bench_dir/rare.lua" "${ybase[$1]}/v1/materials"; }
rare8() { bench_wrk 8 "$secs" -H "$(auth "$1")" -s "$bench_dir/rare.lua" "${ybase[$1]}/v1/materials"; }
onechar_warm() { bench_wrk 1 "$secs" -H "$(auth "$1")" -s $r "${ybase[$1]}/v1/materials?search=%E9%8B%BC"; }
page_warm() { bench_wrk 1 "$secs" -H "$(auth "$1")" -s $r "${ybase[$1]}/v1/materials"; }
onechar_cold() { bench_cold "${ybase[$1]}" "${token[$1]}" "${mid[$1]}" "${ybase[$1]}/v1/materials?search=%E9%8B%BC"; }
page_cold() { bench_cold "${ybase[$1]}" "${token[$1]}" "${mid[$1]}" "${ybase[$1]}/v1/materials"; }
mixed_solo() { bench_wrk 8 "$secs" -H "$(auth "$1")" -s $r "${ybase[$1]}/v1/materials/${mid[$1]}"; }
mixed_loaded() {
  local slow line
  bench_wrk 4 $((secs + 2)) -H "$(auth "$1")" -s $r "${ybase[$1]}/v1/materials?$expensive" \
    >"$bench_dir/slow" &
  slow=$!
  sleep 1 # the four slow clients under way before the fast one starts
  line=$(mixed_solo "$1")
  wait $slow
  echo "$line"
  echo "slow $(cat "$bench_dir/slow")" >>"$bench_dir/slow.log"
}
warm() { # a short run of each GET so that connections and statements are ready
  local l
  for l in "${labels[@]}"; do
    bench_wrk 64 1 -s $r "${vbase[$l]}/api/v1/vendors/1" >/dev/null
    bench_wrk 64 1 -H "$(auth "$l")" -s $r "${ybase[$l]}/v1/materials/${mid[$l]}" >/dev/null
  done
}

for e in ${engines//,/ }; do
  echo "== $e"
  [[ $e == pg ]] && bench_pg_pin "$pg"
  start_servers "$e"
  warm
  fig "$e" "vendor GET /api/v1/vendors/1, c=64" vendor_get
  fig "$e" "chat POST /chat/v1/message, c=8" chat8
  fig "$e" "chat POST /chat/v1/message, c=64" chat64
  fig "$e" "material GET /v1/materials/:id (bearer), c=64" material_get
  fig "$e" "list, a new rare term every request, c=1" rare1
  fig "$e" "list, a new rare term every request, c=8" rare8
  fig "$e" "list 1-char term page 1, warm, c=1" onechar_warm
  fig "$e" "list no filter page 1, warm, c=1" page_warm
  fig "$e" "list 1-char term page 1, cold" onechar_cold
  fig "$e" "list no filter page 1, cold" page_cold
  fig "$e" "mixed: material GET c=8 alone" mixed_solo
  fig "$e" "mixed: material GET c=8, 4 expensive lists" mixed_loaded
  stop_servers "$e"
done

# ---- the table ----

# One line per engine and figure: per binary the mean over the rounds of req/s, p50 and p99
# (cold rows: p50 and max of the samples) and CPU time per request (bento, and on
# PostgreSQL its backends too), and, with --before, the key figure of the row
# after against before: req/s after / before for throughput rows, the latency before / after
# (p99, or p50 for the single-client warm and cold rows) for the others - above 1 is better.
echo
awk -F'\t' -v labels="${labels[*]}" '
function key(f) {
  if (f ~ /vendor GET|material GET \/v1/) return "rps"
  if (f ~ /warm|cold/) return "p50"
  return "p99"
}
function mean(e, f, l, m) { return n[e, f, l] ? sum[e, f, l, m] / n[e, f, l] : 0 }
{
  e = $1; f = $2; l = $3
  if (!((e, f) in seen)) { seen[e, f] = 1; order[++nf] = e SUBSEP f }
  sum[e, f, l, "rps"] += $4; sum[e, f, l, "p50"] += $5
  sum[e, f, l, "p99"] += (f ~ /cold/) ? $7 : $6 # cold rows: their max
  sum[e, f, l, "errors"] += $8
  sum[e, f, l, "cpu"] += $9
  n[e, f, l]++
}
END {
  nl = split(labels, L, " ")
  printf "%-6s %-46s", "engine", "figure"
  for (j = 1; j <= nl; j++) printf " | %-6s %8s %7s %7s %7s", L[j], "req/s", "p50 ms", "p99 ms", "CPU us"
  printf "%s\n", (nl > 1 ? " | key: after vs before" : "")
  for (i = 1; i <= nf; i++) {
    split(order[i], ef, SUBSEP); e = ef[1]; f = ef[2]; k = key(f)
    printf "%-6s %-46s", e, f
    for (j = 1; j <= nl; j++) {
      rps = mean(e, f, L[j], "rps")
      cpu = mean(e, f, L[j], "cpu")
      printf " | %-6s %8s %7.2f %7.2f %7s", "", (rps > 0 ? sprintf("%.0f", rps) : "-"),
        mean(e, f, L[j], "p50"), mean(e, f, L[j], "p99"), (cpu > 0 ? sprintf("%.1f", cpu) : "-")
      if (sum[e, f, L[j], "errors"] > 0) printf " (%d errors)", sum[e, f, L[j], "errors"]
    }
    if (nl > 1) {
      a = mean(e, f, L[1], k); b = mean(e, f, L[2], k)
      r = (a > 0 && b > 0) ? sprintf("%.2fx", (k == "rps") ? a / b : b / a) : "-"
      printf " | %s %s", (k == "rps" ? "req/s" : k), r
    }
    printf "\n"
    if (f ~ /alone/) for (j = 1; j <= nl; j++) solo[e, L[j]] = mean(e, f, L[j], "p99")
    if (f ~ /expensive/) for (j = 1; j <= nl; j++) loaded[e, L[j]] = mean(e, f, L[j], "p99")
  }
  for (i = 1; i <= nf; i++) {
    split(order[i], ef, SUBSEP); e = ef[1]
    if (done[e]++) continue
    for (j = 1; j <= nl; j++)
      if (solo[e, L[j]] > 0)
        printf "%s, %s: p99 of the material GET beside 4 expensive lists / alone = %.1fx" \
          " (target: within 3x)\n", e, L[j], loaded[e, L[j]] / solo[e, L[j]]
  }
}' "$results"
if [[ -n ${BENTO_BENCH_KEEP:-} ]]; then
  echo
  echo "raw results ($results): engine, figure, binary, req/s, p50, p99, max, errors, CPU us"

  cat "$results"
fi
