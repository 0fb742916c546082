#!/bin/sh
# healthcheck.sh - the container's HEALTHCHECK: every service bento listens on answers its
# health route with 200. Where they listen comes from the port file bento writes once all
# listeners are up (BENTO_PORT_FILE: "service host port" lines), so --listen and
# BENTO_<S>_LISTEN need no second setting here. A service's health route is under its mount:
# /health, or /v1/health for a service mounted at /v1 (yunshui); both are tried.
set -eu
ports=${BENTO_PORT_FILE:-/tmp/bento.ports}
[ -s "$ports" ] || { echo "no port file $ports: bento is not listening yet" >&2; exit 1; }
while read -r service host port; do
  case "$host" in
    0.0.0.0 | '') host=127.0.0.1 ;;
    :: | '[::]') host='[::1]' ;;
    *:*) host="[$host]" ;;
  esac
  ok=
  for path in /health /v1/health; do
    if curl -fsS -o /dev/null --max-time 4 "http://$host:$port$path"; then
      ok=1
      break
    fi
  done
  [ -n "$ok" ] || { echo "$service on port $port is not healthy" >&2; exit 1; }
done <"$ports"
