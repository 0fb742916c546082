# SPDX-License-Identifier: MIT
# pg-lib.sh - what scripts/pg-start.sh, pg-stop.sh and pg-ctl.sh share; sourced, never run.
# Defines: die (uses $PG_SCRIPT for the message's prefix), find_pgbin TOOL (sets PGBIN to the
# PostgreSQL binaries that hold TOOL, or dies), as_pg (runs a server tool as postgres when
# run as root: the server refuses to run as root).

die() {
    echo "$PG_SCRIPT: $*" >&2
    exit 1
}

find_pgbin() {
    PGBIN=${PGBIN:-}
    if [ -z "$PGBIN" ]; then
        for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
            if [ -x "$d/$1" ]; then
                PGBIN=$d
                break
            fi
        done
    fi
    if [ -z "$PGBIN" ] || [ ! -x "$PGBIN/$1" ]; then
        die "$1 not found (install postgresql-15)"
    fi
}

as_pg() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
