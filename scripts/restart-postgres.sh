#!/usr/bin/env bash
# Restarts the PostgreSQL started by scripts/start-postgres.sh (fast shutdown:
# every connection is cut), same port and data; for the reconnect test.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR=${ASSET_WORKER_PG_STATE:-$PWD/.build/postgres}
PGBIN=/usr/lib/postgresql/15/bin
PGDATA=$(cat "$STATE_DIR/pgdata")
if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); else as_owner=(); fi
"${as_owner[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -m fast -w -t 30 restart >/dev/null </dev/null
