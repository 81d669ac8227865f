#!/usr/bin/env bash
# A throwaway PostgreSQL server for `nox -s postgres`: a fresh cluster in a temp dir on a free
# port, trust auth on 127.0.0.1 only, so no password or system service is involved. Everything
# goes to stderr except two stdout lines: PGDATA=<dir>, then the DATABASE_URL (noxfile.py reads
# the last line). `scripts/postgres.sh stop <PGDATA>` stops that cluster and deletes it.
set -euo pipefail

bash "$(dirname "$0")/system-deps.sh" postgres >&2
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)

# initdb refuses to run as root: as root, the cluster belongs to Debian's postgres user.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [ "${1:-}" = stop ]; then
    as_owner "$BIN/pg_ctl" -D "$2" stop -m fast >&2
    rm -rf "$(dirname "$2")"
    exit 0
fi

DIR=$(mktemp -d /tmp/kollus-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi

as_owner "$BIN/initdb" -D "$DIR/data" --auth trust -U postgres -E UTF8 >&2
# fsync off: a test cluster that is thrown away needs no durability, and it is much faster.
# max_connections 400: the live-server tests fire 81 requests at once, each on its own
# connection, and the two xdist workers can run two such tests together; the default 100
# answered some of them "sorry, too many clients already" (a CI run failed on it).
as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=400" \
    start >&2
echo "PGDATA=$DIR/data"
echo "postgres://postgres@127.0.0.1:$PORT/postgres"
