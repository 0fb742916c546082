#!/usr/bin/env bash
# test.sh - the whole test suite (the README's second command; .ci/run calls it).
#   1. install what is needed (scripts/bootstrap.sh --test)
#   2. style and static checks: clang-format, cppcheck
#   3. build with -Werror and run every test on SQLite and on a throwaway PostgreSQL 15
#   4. lint every service's OpenAPI document (@redocly/cli, tools/redocly.yaml): zero errors
#   5. the same with AddressSanitizer + UndefinedBehaviorSanitizer
#   6. every libFuzzer target for BENTO_TEST_FUZZ_SECONDS (default 15) each (scripts/fuzz.sh)
# Set BENTO_TEST_QUICK=1 to skip the sanitizer and fuzzing passes while iterating locally.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scripts/bootstrap.sh --test

jobs=$(nproc)
echo "== format and static checks"
mapfile -t sources < <(git ls-files '*.c' '*.h' 2>/dev/null || find src apps tests include -name '*.[ch]')
clang-format --dry-run -Werror "${sources[@]}"
cppcheck --quiet --enable=warning --error-exitcode=1 --inline-suppr --std=c11 \
  -D__GNUC__ -DBENTO_VERSION='"0"' -Iinclude --suppress=missingIncludeSystem \
  src apps

pgdir=$(mktemp -d /tmp/bento-pg-XXXXXX)
rmdir "$pgdir"
cleanup() { scripts/pg-stop.sh "$pgdir" >/dev/null 2>&1 || true; }
trap cleanup EXIT
BENTO_TEST_PG_DSN=$(scripts/pg-start.sh "$pgdir")
export BENTO_TEST_PG_DSN BENTO_TEST_REQUIRE_PG=1

run_suite() { # build-dir, extra cmake args...
  local dir=$1; shift
  cmake -S . -B "$dir" -G Ninja -DBENTO_WERROR=ON "$@" >/dev/null
  ninja -C "$dir"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 300
}

echo "== build (-Werror) and tests on sqlite and pg"
run_suite build/ci -DCMAKE_BUILD_TYPE=RelWithDebInfo

echo "== OpenAPI lint"
scripts/lint-openapi.sh build/ci/bento

if [[ "${BENTO_TEST_QUICK:-0}" != 1 ]]; then
  echo "== ASan + UBSan"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    run_suite build/asan -DCMAKE_BUILD_TYPE=Debug -DBENTO_SANITIZE=address,undefined
  echo "== fuzzing (each target briefly; scripts/fuzz.sh for longer)"
  scripts/fuzz.sh "${BENTO_TEST_FUZZ_SECONDS:-15}"
fi
echo "== all tests passed"
