#!/usr/bin/env bash
# A throwaway PostgreSQL server for `nox -s postgres`: a fresh cluster in a temp dir on a free
# port, trust auth on 127.0.0.1 only, so no password or system service is involved. Everything
# goes to stderr except the last stdout line, the DATABASE_URL (noxfile.py reads that line).
# Stop it with the pg_ctl command printed to stderr; the cluster is in /tmp and holds nothing.
set -euo pipefail

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
    else
        echo "PostgreSQL is not installed: apt-get install postgresql" >&2
        exit 1
    fi
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DIR=$(mktemp -d /tmp/kollus-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# initdb refuses to run as root: as root, the cluster belongs to Debian's postgres user.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
if [ "$(id -u)" = 0 ]; then chown postgres "$DIR"; fi

as_owner "$BIN/initdb" -D "$DIR/data" --auth trust -U postgres -E UTF8 >&2
# fsync off: a test cluster that is thrown away needs no durability, and it is much faster.
as_owner "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >&2
echo "stop with: runuser -u postgres -- $BIN/pg_ctl -D $DIR/data stop" >&2
echo "postgres://postgres@127.0.0.1:$PORT/postgres"
