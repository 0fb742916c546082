#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pg-ctl.sh DIR stop fast|immediate - stop a cluster made by scripts/pg-start.sh DIR, keeping
#                                     its data (fast: sessions are ended, then a checkpoint;
#                                     immediate: every server process is killed, a crash)
# pg-ctl.sh DIR start                - start it again, on the port pg-start.sh picked
# For tests of a database outage (tests/http/test_db_outage_pg.c). Each waits until done:
# stopped, or accepting connections (after crash recovery when it was stopped immediately).
# Must not: touch anything but the cluster in DIR; remove DIR (scripts/pg-stop.sh does).
set -euo pipefail

PG_SCRIPT=pg-ctl
. "$(dirname "$0")/pg-lib.sh"

[ $# -ge 2 ] || die "usage: pg-ctl.sh DIR stop fast|immediate | pg-ctl.sh DIR start"
DIR=$(cd "$1" && pwd)
[ -f "$DIR/data/PG_VERSION" ] || die "$DIR/data is not a PostgreSQL data directory"
grep -q '^port = ' "$DIR/data/postgresql.conf" || die "$DIR was not made by pg-start.sh"

find_pgbin pg_ctl

cd "$DIR"
case "$2" in
stop)
    mode=${3:-}
    [ "$mode" = fast ] || [ "$mode" = immediate ] || die "stop needs fast or immediate"
    as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m "$mode" -w -t 60 stop >/dev/null
    ;;
start)
    as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -t 60 start >/dev/null || {
        tail -n 20 "$DIR/log" >&2 || true
        die "postgres did not start"
    }
    ;;
*)
    die "unknown command $2 (stop or start)"
    ;;
esac
