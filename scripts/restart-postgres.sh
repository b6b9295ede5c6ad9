#!/usr/bin/env bash
# Restarts, stops or starts again the PostgreSQL of scripts/start-postgres.sh
# (fast shutdown: every connection is cut), same port and data; for the
# outage and reconnect tests. Usage: restart-postgres.sh [restart|stop|start]
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR=${ASSET_WORKER_PG_STATE:-$PWD/.build/postgres}
PGBIN=/usr/lib/postgresql/15/bin
PGDATA=$(cat "$STATE_DIR/pgdata")
if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); else as_owner=(); fi
case "${1:-restart}" in
  # `pg_ctl restart` also starts a stopped server, with the options it last ran with (postmaster.opts).
  restart|start) "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -m fast -w -t 30 restart >/dev/null 2>&1 </dev/null ;;
  stop) "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 30 stop >/dev/null ;;
  *) echo "usage: $0 [restart|stop|start]" >&2; exit 64 ;;
esac
