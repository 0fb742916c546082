#!/usr/bin/env bash
# bootstrap.sh - install the Debian 12 packages bento needs, then the npm packages pinned in
# tools/npm/package-lock.json (the /docs viewer, which the build embeds; with --test also the
# OpenAPI linter). Idempotent and quick when everything is already there (no apt or npm call).
#   scripts/bootstrap.sh          build and run
#   scripts/bootstrap.sh --test   also what the test suite and its checks need
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(build-essential cmake ninja-build pkg-config libmicrohttpd-dev libjansson-dev
      libsqlite3-dev libpq-dev libssl-dev libcurl4-openssl-dev libargon2-dev)
if [[ "${1:-}" == "--test" ]]; then
  # systemd (systemd-analyze) and python3-yaml: the checks of deploy/ (tests/unit/test_deploy.c)
  # clang-14 and libclang-rt-14-dev (libFuzzer and the sanitizer runtimes): scripts/fuzz.sh
  pkgs+=(libcmocka-dev postgresql-15 clang-format cppcheck systemd python3-yaml clang-14
         libclang-rt-14-dev)
fi
if [[ "${1:-}" == "--bench" ]]; then
  pkgs+=(wrk)
fi

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node.js and npm from Debian when the machine has none (a Node.js from elsewhere is kept)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)

if ((${#missing[@]} > 0)); then
  echo "bootstrap: installing ${missing[*]}" >&2
  sudo=()
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "bootstrap: run as root or install sudo" >&2; exit 1; }
    sudo=(sudo)
  fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  # postgresql-15's package would start a system cluster; the tests never use it
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages (docs/OPERATIONS.md, "API reference"): exactly the lock file's versions, into
# tools/npm/node_modules (never committed). Build and run need only swagger-ui-dist; --test
# adds the linter (@redocly/cli 1.x, which runs on Debian 12's Node.js 18 as on newer ones).
# A stamp records what was installed from which lock file, so a second run calls no npm.
node_major=$(node -p 'process.versions.node.split(".")[0]')
if ((node_major < 18)); then
  echo "bootstrap: Node.js $(node --version) is too old; 18 or newer is needed (Debian 12 has 18)" >&2
  exit 1
fi
npm_mode=build
npm_args=(--omit=dev)
if [[ "${1:-}" == "--test" ]]; then
  npm_mode=test
  npm_args=(--include=dev)
fi
lock_sum=$(sha256sum tools/npm/package.json tools/npm/package-lock.json | sha256sum | cut -c1-64)
stamp=tools/npm/node_modules/.bento-bootstrap
have=$(cat "$stamp" 2>/dev/null || true)
if [[ "$have" != "$lock_sum test" && "$have" != "$lock_sum $npm_mode" ]]; then
  echo "bootstrap: npm ci in tools/npm ($npm_mode)" >&2
  # telemetry of the installed tools stays off (scripts are not run either: tools/npm/.npmrc)
  (cd tools/npm && SCARF_ANALYTICS=false npm ci --no-audit --no-fund "${npm_args[@]}" >/dev/null) || {
    echo "bootstrap: npm ci failed in tools/npm (is the npm registry reachable?)" >&2
    exit 1
  }
  echo "$lock_sum $npm_mode" >"$stamp"
fi
