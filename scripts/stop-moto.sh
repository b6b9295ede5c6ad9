#!/usr/bin/env bash
# Stops the moto_server started by scripts/start-moto.sh (by its recorded pid
# only) and waits until it has exited, so nothing is left running.
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR=${MOTO_STATE_DIR:-.build/moto}
if [ -f "$STATE_DIR/pid" ]; then
  PID=$(cat "$STATE_DIR/pid")
  kill "$PID" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$PID" 2>/dev/null || true
  rm -f "$STATE_DIR/pid" "$STATE_DIR/endpoint"
fi
