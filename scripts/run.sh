#!/usr/bin/env bash
# run.sh - build bento and run every service on SQLite under ./data (the README's first command).
# Extra arguments go to `bento serve` (e.g. --services vendorchat --host 0.0.0.0).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DBENTO_TESTS=OFF >/dev/null
ninja -C build/release bento >/dev/null
exec build/release/bento serve --data-dir ./data "$@"
