# bench/lib.sh - what the benchmark scripts share; sourced, never run. Not part of the test
# suite. Call bench_init first (it sets the EXIT trap that undoes everything below).
#   bench_init                   a scratch directory ($bench_dir) and the clean-up trap
#   bench_build                  the release binary, build/release/bento ($bench_bin)
#   bench_pg_db SERVER NAME      a new database NAME on the PostgreSQL server at URL SERVER
#                                (dropped at exit); $bench_pg_url is its URL
#   bench_pg_pin URL             pin the PostgreSQL server of URL (when it runs on this
#                                machine) to bento's CPU, so that its backends share one core
#                                with bento as on a one-core host; undone at exit
#   bench_serve BIN DIR SERVICES [ARGS...]   bento serving SERVICES (comma-separated, each on a
#                                free port) from data directory DIR, pinned to CPU 0, access
#                                log, per-address and yunshui rate limits off (wrk is one
#                                client); waits until it listens; $bench_pid is its pid (all
#                                are stopped at exit); BENTO_BENCH_THREADS=N sets --threads
#   bench_port DIR SERVICE       the port SERVICE of the bento in DIR listens on
#   bench_login BASE             the yunshui admin's access token (BASE: http://host:port)
#   bench_lua NAME SCRIPT...     $bench_dir/NAME.lua: the scripts followed by report.lua
#   bench_wrk CONNS SECS ARGS... wrk on CPU 1 with a report.lua script among ARGS: its RESULT
#                                line ("RESULT requests=.. rps=.. p50_ms=.. p99_ms=.. ..."), or
#                                a message on stderr and status 1 when wrk gave none
#   bench_field NAME LINE        one field of a RESULT line
#   bench_ticks PID...           CPU time (user + system) of those processes, in clock ticks
#   bench_pg_backends URL DB     the pids of the backends connected to database DB
#   bench_machine                one line: CPUs, model, memory, kernel, load average
# The two CPUs: bento (and PostgreSQL, pinned) on CPU 0, the load on CPU 1, when the machine
# has two or more; unpinned otherwise.

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_dir=
bench_pid=
bench_pids=()
bench_pg_drops=()  # "SERVER NAME" pairs
bench_pg_unpin=()  # "PID MASK" pairs
if (($(nproc) >= 2)); then
  bench_cpu_bento=(taskset -c 0)
  bench_cpu_load=(taskset -c 1)
else
  bench_cpu_bento=()
  bench_cpu_load=()
fi

bench_cleanup() {
  local p pair
  jobs -p | xargs -r kill 2>/dev/null || true # a wrk still running
  for p in "${bench_pids[@]}"; do
    kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
  done
  for pair in "${bench_pg_unpin[@]}"; do
    taskset -a -p "${pair#* }" "${pair%% *}" >/dev/null 2>&1 || true
  done
  for pair in "${bench_pg_drops[@]}"; do
    psql -q "${pair% *}" -c "DROP DATABASE IF EXISTS ${pair##* }" >/dev/null 2>&1 || true
  done
  if [[ -n ${BENTO_BENCH_KEEP:-} ]]; then
    echo "kept $bench_dir" >&2
  elif [[ -n $bench_dir ]]; then
    rm -rf "$bench_dir"
  fi
}

bench_init() {
  bench_dir=$(mktemp -d /tmp/bento-bench-XXXXXX)
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_build() {
  (cd "$bench_root" &&
    scripts/bootstrap.sh --bench &&
    cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBENTO_TESTS=OFF >/dev/null &&
    ninja -C build/release bento >/dev/null)
  bench_bin=$bench_root/build/release/bento
}

bench_pg_db() {
  local server=$1 name=$2
  command -v psql >/dev/null || { echo "bench: PostgreSQL runs need psql" >&2; return 1; }
  psql -q "$server" -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $name" \
    -c "CREATE DATABASE $name" >/dev/null
  bench_pg_drops+=("$server $name")
  bench_pg_url="${server%/*}/$name"
}

bench_pg_pin() {
  local aux pm mask
  ((${#bench_cpu_bento[@]})) || return 0
  # the checkpointer lives as long as the server; its parent is the postmaster, if it runs
  # on this machine at all
  aux=$(psql -Atq "$1" -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'checkpointer'" \
    2>/dev/null) || return 0
  pm=$(awk '{print $4}' "/proc/$aux/stat" 2>/dev/null) || true
  [[ -n $pm && -r /proc/$pm/comm && $(cat "/proc/$pm/comm") == postgres* ]] || {
    echo "bench: PostgreSQL does not run on this machine (or is not visible): not pinned" >&2
    return 0
  }
  mask=$(taskset -p "$pm" | awk '{print $NF}')
  taskset -a -p -c 0 "$pm" >/dev/null 2>&1 || {
    echo "bench: cannot pin PostgreSQL's postmaster ($pm): not pinned" >&2
    return 0
  }
  bench_pg_unpin+=("$pm $mask")
  echo "PostgreSQL postmaster $pm pinned to CPU 0 (new backends inherit it; was mask $mask)"
}

bench_serve() {
  local bin=$1 dir=$2 services=$3 listen=() s n
  shift 3
  IFS=, read -ra s <<<"$services"
  for n in "${s[@]}"; do listen+=(--listen "$n=127.0.0.1:0"); done
  mkdir -p "$dir"
  BENTO_ACCESS_LOG=0 BENTO_PER_IP_LIMIT=0 BENTO_YUNSHUI_RATE_LIMIT=0 \
    "${bench_cpu_bento[@]}" "$bin" serve --services "$services" --data-dir "$dir" \
    "${listen[@]}" --port-file "$dir/ports" \
    ${BENTO_BENCH_THREADS:+--threads $BENTO_BENCH_THREADS} "$@" 2>"$dir/log" &
  bench_pid=$!
  bench_pids+=("$bench_pid")
  while [[ ! -s $dir/ports || $(wc -l <"$dir/ports") -lt ${#s[@]} ]]; do
    kill -0 "$bench_pid" 2>/dev/null || { cat "$dir/log" >&2; return 1; }
    sleep 0.1 # waiting for start-up in a benchmark script, not in a test
  done
}

bench_port() {
  awk -v s="$2" '$1 == s {print $3}' "$1/ports"
}

bench_login() {
  curl -sf -H 'Content-Type: application/json' \
    -d '{"username":"admin","password":"password123"}' "$1/v1/auth/login" |
    sed -n 's/.*"token":"\([^"]*\)".*/\1/p'
}

bench_lua() {
  local name=$1
  shift
  cat "$@" "$bench_root/bench/report.lua" >"$bench_dir/$name.lua"
}

bench_wrk() {
  local conns=$1 secs=$2 out rc
  shift 2
  out=$("${bench_cpu_load[@]}" wrk -t1 -c"$conns" -d"${secs}s" "$@" 2>&1)
  rc=$?
  if ! grep RESULT <<<"$out"; then
    echo "bench: wrk (exit $rc) gave no result for $*: $(tail -3 <<<"$out" | tr '\n' ' ')" >&2
    return 1
  fi
}

bench_field() {
  sed -n "s/.*RESULT.* $1=\([^ ]*\).*/\1/p" <<<"$2"
}

bench_ticks() {
  local sum=0 p
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] && sum=$((sum + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$sum"
}

bench_pg_backends() {
  psql -Atq "$1" -c "SELECT pid FROM pg_stat_activity WHERE datname = '$2'" | xargs
}

bench_machine() {
  echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
    "$(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr), load average" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# bench_seed_materials BIN DBURL ROWS: ROWS yunshui materials (bench/yunshui_materials_seed.awk)
# into the database of a yunshui that has started on it (its tables exist), then what a
# server that has run for a while would have: VACUUM ANALYZE and a checkpoint on PostgreSQL
# (CHECKPOINT needs a superuser or pg_checkpoint: skipped otherwise), the WAL folded into the
# file on SQLite. Through BIN's `bento sql`, which writes through the tokenizer and triggers of
# the search index (the sqlite3 shell lacks them); a binary without that command (older than
# the index) is seeded with psql or the sqlite3 shell, as it was then.
bench_seed_materials() {
  local bin=$1 url=$2 rows=$3 run
  if [[ $("$bin" --help 2>&1) == *$'\n  sql '* ]]; then
    run=("$bin" sql --db "$url")
  elif [[ $url == postgres* ]]; then
    run=(psql -q -v ON_ERROR_STOP=1 "$url")
  else
    run=(sqlite3 "${url#sqlite:}")
  fi
  LC_ALL=C awk -v n="$rows" -f "$bench_root/bench/yunshui_materials_seed.awk" |
    "${run[@]}" >/dev/null
  if [[ $url == postgres* ]]; then
    echo "VACUUM ANALYZE yunshui_materials" | "${run[@]}" >/dev/null
    echo "CHECKPOINT" | "${run[@]}" >/dev/null 2>&1 || true
  else
    echo "PRAGMA wal_checkpoint(TRUNCATE);" | "${run[@]}" >/dev/null
  fi
}

# bench_cold BASE TOKEN MATERIAL URL [SAMPLES=30]: URL's first request after a material write
# (a new revision stamp, so no cached total survives it), SAMPLES times, timed with curl:
# "p50_ms=.. max_ms=.. samples=.."
bench_cold() {
  local base=$1 auth="Authorization: Bearer $2" id=$3 url=$4 n=${5:-30} i
  for i in $(seq 1 "$n"); do
    curl -sf -o /dev/null -X PUT -H "$auth" -H 'Content-Type: application/json' \
      -d "{\"description\":\"冷測 $i\"}" "$base/v1/materials/$id"
    curl -sf -o /dev/null -w '%{time_total}\n' -H "$auth" "$url"
  done | sort -n | awk '{v[NR] = $1 * 1000} END {
    printf "p50_ms=%.2f max_ms=%.2f samples=%d\n", v[int((NR + 1) / 2)], v[NR], NR }'
}
