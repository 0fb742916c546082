#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pg-stop.sh DIR - stop a cluster started by scripts/pg-start.sh DIR and remove DIR.
# Must not: touch anything outside DIR, or remove a DIR that is not a pg-start.sh cluster.
set -euo pipefail

die() {
    echo "pg-stop: $*" >&2
    exit 1
}

[ $# -eq 1 ] || die "usage: pg-stop.sh DIR"
[ -d "$1" ] || exit 0
DIR=$(cd "$1" && pwd)

PGBIN=${PGBIN:-}
if [ -z "$PGBIN" ]; then
    for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
        if [ -x "$d/pg_ctl" ]; then
            PGBIN=$d
            break
        fi
    done
fi
if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/pg_ctl" ]; then
    die "pg_ctl not found (install postgresql-15)"
fi

if [ -e "$DIR/data" ] && [ ! -f "$DIR/data/PG_VERSION" ]; then
    die "$DIR/data is not a PostgreSQL data directory; not removing $DIR"
fi

cd "$DIR"
if [ -f "$DIR/data/postmaster.pid" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null
    else
        "$PGBIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null
    fi
fi
cd /
rm -rf "$DIR"
