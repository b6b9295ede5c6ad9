#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 on loopback for the queue's tests (see
# shared platform notes §3): a fresh cluster in /tmp/pgci.XXXXXX, trust auth,
# fsync off (test data only), socket in the data dir. Prints what the tests need:
#   export DATABASE_URL=postgres://postgres@127.0.0.1:PORT/worker_test
#   export ASSET_WORKER_PG_STATE=DIR   (for scripts/restart-postgres.sh and stop-postgres.sh)
# so a caller can `eval "$(bash scripts/start-postgres.sh)"`. Port 55432 unless
# taken (then a free one), or $PGPORT. Installs postgresql-15 through
# scripts/setup.sh when missing. Stop it with scripts/stop-postgres.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR=${ASSET_WORKER_PG_STATE:-$PWD/.build/postgres}
PGBIN=/usr/lib/postgresql/15/bin
mkdir -p "$STATE_DIR"

if [ ! -x "$PGBIN/pg_ctl" ]; then
  bash scripts/setup.sh >&2
fi
[ -x "$PGBIN/pg_ctl" ] || { echo "start-postgres: $PGBIN/pg_ctl not found after setup" >&2; exit 1; }

# A cluster left by an earlier run of this state dir is stopped first.
bash scripts/stop-postgres.sh >/dev/null 2>&1 || true

# SO_REUSEADDR as PostgreSQL's own listener has: a port with only TIME_WAIT connections left counts as free.
port_free() { python3 -c 'import socket,sys; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.1", int(sys.argv[1]))); s.close()' "$1" 2>/dev/null; }
PORT=${PGPORT:-55432}
if ! port_free "$PORT"; then
  PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
fi

PGDATA=$(mktemp -d /tmp/pgci.XXXXXX)
echo "$PGDATA" >"$STATE_DIR/pgdata"
echo "$PORT" >"$STATE_DIR/port"
# initdb refuses to run as root: as root, the cluster belongs to the postgres user.
if [ "$(id -u)" -eq 0 ]; then
  chown postgres:postgres "$PGDATA"
  as_owner=(runuser -u postgres --)
else
  as_owner=()
fi
fail() { echo "start-postgres: $1 (log: $PGDATA/server.log)" >&2; [ -f "$PGDATA/server.log" ] && tail -n 20 "$PGDATA/server.log" >&2; bash scripts/stop-postgres.sh >/dev/null 2>&1 || true; exit 1; }

"${as_owner[@]}" "$PGBIN/initdb" -D "$PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null || fail "initdb failed"
"${as_owner[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 30 \
  -o "-c listen_addresses=127.0.0.1 -p $PORT -k $PGDATA -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start >/dev/null </dev/null || fail "the server did not start"
"$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres worker_test || fail "createdb failed"

echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$PORT/worker_test"
echo "export ASSET_WORKER_PG_STATE=$STATE_DIR"
