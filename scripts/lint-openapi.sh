#!/usr/bin/env bash
# lint-openapi.sh - lint the OpenAPI document of every service (one per folder under apps/)
# with @redocly/cli and tools/redocly.yaml; fails on any error. scripts/test.sh runs it.
#   scripts/lint-openapi.sh [BENTO_BINARY]     (default build/ci/bento)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=$(realpath "${1:-build/ci/bento}")
redocly=$root/tools/npm/node_modules/.bin/redocly
if [[ ! -x "$redocly" ]]; then
  echo "lint-openapi: $redocly is missing: run scripts/bootstrap.sh --test" >&2
  exit 1
fi
out=$(mktemp -d /tmp/bento-openapi-XXXXXX)
trap 'rm -rf "$out"' EXIT
docs=()
for dir in apps/*/; do
  svc=$(basename "$dir")
  "$bin" openapi "$svc" >"$out/$svc.json"
  docs+=("$svc.json")
done
cd "$out"
# no usage telemetry, no update check: CI reaches no outside service
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
  "$redocly" lint --config "$root/tools/redocly.yaml" --format=stylish "${docs[@]}"
