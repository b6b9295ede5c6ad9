#!/usr/bin/env bash
# Stops the PostgreSQL started by scripts/start-postgres.sh (fast shutdown,
# waited for), then removes its data dir, so no /tmp/pgci.* and no postgres
# process of it is left. Safe to call when nothing runs.
set -uo pipefail
cd "$(dirname "$0")/.."
STATE_DIR=${ASSET_WORKER_PG_STATE:-$PWD/.build/postgres}
PGBIN=/usr/lib/postgresql/15/bin
[ -f "$STATE_DIR/pgdata" ] || exit 0
PGDATA=$(cat "$STATE_DIR/pgdata")
case "$PGDATA" in /tmp/pgci.*) ;; *) echo "stop-postgres: refusing to remove '$PGDATA'" >&2; exit 1 ;; esac
if [ -f "$PGDATA/postmaster.pid" ]; then
  if [ "$(id -u)" -eq 0 ]; then as_owner=(runuser -u postgres --); else as_owner=(); fi
  PID=$(head -n 1 "$PGDATA/postmaster.pid")
  "${as_owner[@]}" "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w -t 30 stop >/dev/null 2>&1 || true
  # If it did not stop, end that server (its postmaster pid only, which takes its backends with it).
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -QUIT "$PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$PID" 2>/dev/null || true
  fi
fi
rm -rf "$PGDATA"
rm -f "$STATE_DIR/pgdata" "$STATE_DIR/port"
