#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pg-stop.sh DIR - stop a cluster started by scripts/pg-start.sh DIR and remove DIR.
# Must not: touch anything outside DIR, or remove a DIR that is not a pg-start.sh cluster.
set -euo pipefail

PG_SCRIPT=pg-stop
. "$(dirname "$0")/pg-lib.sh"

[ $# -eq 1 ] || die "usage: pg-stop.sh DIR"
[ -d "$1" ] || exit 0
DIR=$(cd "$1" && pwd)

find_pgbin pg_ctl

if [ -e "$DIR/data" ] && [ ! -f "$DIR/data/PG_VERSION" ]; then
    die "$DIR/data is not a PostgreSQL data directory; not removing $DIR"
fi

cd "$DIR"
if [ -f "$DIR/data/postmaster.pid" ]; then
    as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null
fi
cd /
rm -rf "$DIR"
