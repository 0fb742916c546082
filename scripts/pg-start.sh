#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# pg-start.sh DIR - start a throwaway PostgreSQL 15 cluster for tests.
# Owns: DIR (created here; data in DIR/data, socket in DIR/run, log in DIR/log).
# Prints exactly one line on stdout, the connection URL:
#   postgresql://postgres@127.0.0.1:PORT/postgres
# Must not: touch the system cluster, use a fixed port, or leave a server behind on failure.
# Stop it with scripts/pg-stop.sh DIR; scripts/pg-ctl.sh DIR stop|start stops it and starts it
# again on the same port (outage tests).
set -euo pipefail

PG_SCRIPT=pg-start
. "$(dirname "$0")/pg-lib.sh"

[ $# -eq 1 ] || die "usage: pg-start.sh DIR"

find_pgbin initdb

mkdir -p "$1"
DIR=$(cd "$1" && pwd)
if [ -e "$DIR/data" ]; then
    die "$DIR/data already exists"
fi

if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "user postgres does not exist"
    chown postgres: "$DIR"
    # A mktemp -d parent (mode 0700) would hide DIR from postgres; say so instead of
    # changing permissions outside DIR.
    runuser -u postgres -- test -w "$DIR" ||
        die "$DIR is not reachable by user postgres (a parent directory lacks o+x)"
fi

# Tools run with DIR as working directory so a cwd unreadable by postgres does not matter.
cd "$DIR"
mkdir -p "$DIR/run"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres: "$DIR/run"
fi

as_pg "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C \
    --no-sync >"$DIR/initdb.log" 2>&1 || {
    cat "$DIR/initdb.log" >&2
    die "initdb failed"
}

# The socket path (DIR/run/.s.PGSQL.NNNNN) must fit sun_path (107 bytes); a deeper DIR
# gets TCP only rather than a server that cannot start.
sockdir="$DIR/run"
if [ $((${#sockdir} + 18)) -gt 107 ]; then
    sockdir=
fi

cat >>"$DIR/data/postgresql.conf" <<CONF
# pg-start.sh: throwaway test cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sockdir'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
CONF

# Pick a port by trying: a port nobody answers on (bash /dev/tcp) is a candidate, and
# pg_ctl -w fails fast if the bind still loses a race; then try the next one.
# Below the kernel's ephemeral range when there is room: a client that keeps connecting to a
# stopped server on a port inside that range can be given that very port as its own and
# connect to itself (TCP simultaneous open on loopback), and the server then cannot bind it
# when it starts again (tests/http/test_db_outage_pg.c stops and starts its cluster).
lo=20000
span=40000
if read -r eph_lo _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null && [ "$eph_lo" -gt $((lo + 1000)) ]; then
    span=$((eph_lo - lo))
fi
start=$((lo + (RANDOM * 32768 + RANDOM) % span))
port=
for i in $(seq 0 49); do
    p=$((lo + (start - lo + i * 7) % span))
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
        continue # something listens there
    fi
    rm -f "$DIR/log"
    if as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/log" -w -t 60 -o "-p $p" start \
        >/dev/null 2>&1; then
        port=$p
        break
    fi
    # A failed start may leave a half-started postmaster; make sure none is left.
    as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
    # Only a lost race for the port is worth another try.
    if ! grep -q "in use" "$DIR/log" 2>/dev/null; then
        tail -n 20 "$DIR/log" >&2 || true
        die "postgres did not start"
    fi
done
if [ -z "$port" ]; then
    tail -n 20 "$DIR/log" >&2 || true
    die "could not start postgres on a free port"
fi

as_pg "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 30 || {
    as_pg "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate stop >/dev/null 2>&1 || true
    die "server did not become ready"
}

# The port it won, for a later start of the same cluster (scripts/pg-ctl.sh DIR start).
echo "port = $port" >>"$DIR/data/postgresql.conf"

echo "postgresql://postgres@127.0.0.1:$port/postgres"
