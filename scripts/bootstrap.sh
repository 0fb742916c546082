#!/usr/bin/env bash
# bootstrap.sh - install the Debian 12 packages bento needs. Idempotent and quick when
# everything is already there (no apt call at all).
#   scripts/bootstrap.sh          build and run
#   scripts/bootstrap.sh --test   also what the test suite and its checks need
set -euo pipefail

pkgs=(build-essential cmake ninja-build pkg-config libmicrohttpd-dev libjansson-dev
      libsqlite3-dev libpq-dev libssl-dev libcurl4-openssl-dev libargon2-dev)
if [[ "${1:-}" == "--test" ]]; then
  # systemd (systemd-analyze) and python3-yaml: the checks of deploy/ (tests/unit/test_deploy.c)
  pkgs+=(libcmocka-dev postgresql-15 clang-format cppcheck systemd python3-yaml)
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
if ((${#missing[@]} == 0)); then
  exit 0
fi

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
