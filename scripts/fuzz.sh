#!/usr/bin/env bash
# fuzz.sh - build every libFuzzer target (tests/fuzz/fuzz_*.c) with clang 14 and
# -fsanitize=fuzzer,address,undefined in build/fuzz, then run each for SECONDS (default 60)
# over its corpus in tests/fuzz/corpus/. New inputs and crash files go to a scratch
# directory (BENTO_FUZZ_OUT, default a fresh /tmp/bento-fuzz-XXXXXX), never into the repo.
# A crash, leak, timeout (10 s for one input) or broken invariant fails the script and
# prints the reproducer's path; rerun it with `build/fuzz/tests/fuzz_NAME FILE`, and once
# the bug is fixed copy the file into the target's corpus as crash_<what> (docs/TESTING.md).
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 300 pipeline jwt
# Needs clang-14 and libclang-rt-14-dev (scripts/bootstrap.sh --test installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
secs=${1:-60}
shift || true
[[ "$secs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: SECONDS must be a number, not '$secs'" >&2; exit 2; }

scripts/bootstrap.sh --test # clang-14, libFuzzer, the /docs assets bento_core embeds
cc=$(command -v clang-14 || command -v clang || true)
[[ -n "$cc" ]] || { echo "fuzz.sh: clang-14 is missing (scripts/bootstrap.sh --test)" >&2; exit 1; }

echo "== fuzz: building the targets ($cc, build/fuzz)"
CC=$cc cmake -S . -B build/fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBENTO_FUZZ=ON \
  -DBENTO_SANITIZE=address,undefined -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link >/dev/null
ninja -C build/fuzz fuzz_all >/dev/null

if (($# > 0)); then
  targets=("$@")
else
  mapfile -t targets < <(cd tests/fuzz && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
fi
out=${BENTO_FUZZ_OUT:-$(mktemp -d /tmp/bento-fuzz-XXXXXX)}
mkdir -p "$out"
echo "== fuzz: ${#targets[@]} targets, ${secs}s each, scratch $out"

# the corpus directories of a target: its own, json also schema (as tests/CMakeLists.txt)
corpus_of() {
  case $1 in
    json) echo "tests/fuzz/corpus/json tests/fuzz/corpus/schema" ;;
    *) echo "tests/fuzz/corpus/$1" ;;
  esac
}

# libFuzzer's input size cap: json's corpus holds 200 KB stress files (for the replay test);
# mutating those is slow and finds nothing the first 8 KiB would not, so json is capped
max_len_of() {
  case $1 in
    json) echo "-max_len=8192" ;;
    *) echo "-max_len=0" ;;
  esac
}

failed=()
printf '%-10s %8s %12s %9s %8s\n' target seconds executions exec/s corpus >"$out/summary.txt"
for t in "${targets[@]}"; do
  exe=build/fuzz/tests/fuzz_$t
  [[ -x "$exe" ]] || { echo "fuzz.sh: no target '$t'" >&2; exit 2; }
  mkdir -p "$out/$t/new" "$out/$t/crashes"
  log=$out/$t/log.txt
  # shellcheck disable=SC2046
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$exe" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $(max_len_of "$t") \
    -artifact_prefix="$out/$t/crashes/" "$out/$t/new" $(corpus_of "$t") >"$log" 2>&1; then
    status=ok
  else
    status=FAILED
    failed+=("$t")
  fi
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  units=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  printf '%-10s %8s %12s %9s %8s\n' "$t" "$secs" "${execs:-?}" "${rate:-?}" "${units:-?}" \
    >>"$out/summary.txt"
  echo "fuzz_$t: $status, ${execs:-?} executions (${rate:-?}/s), corpus ${units:-?}"
  if [[ $status != ok ]]; then
    grep -E 'ERROR: |fuzz invariant failed|runtime error' "$log" | head -5 || true
    for f in "$out/$t/crashes"/*; do
      [[ -e "$f" ]] && echo "  reproducer: $f  (rerun: $root/$exe $f)"
    done
    echo "  log: $log"
  fi
done
cat "$out/summary.txt"
if ((${#failed[@]} > 0)); then
  echo "== fuzz: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "== fuzz: no findings"
