#!/usr/bin/env bash
# Stops the moto_server started by scripts/start-moto.sh (by its recorded pid only).
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR=${MOTO_STATE_DIR:-.build/moto}
if [ -f "$STATE_DIR/pid" ]; then
  kill "$(cat "$STATE_DIR/pid")" 2>/dev/null || true
  rm -f "$STATE_DIR/pid" "$STATE_DIR/endpoint"
fi
