#!/usr/bin/env bash
# Starts moto_server (an S3 implementation) on a free loopback port for the
# ClassyTests moto test, and writes what the tests need:
#   $MOTO_STATE_DIR/endpoint   the URL, e.g. http://127.0.0.1:41234
#   $MOTO_STATE_DIR/pid        the server's process id (stop it with scripts/stop-moto.sh)
# It prints `export MOTO_ENDPOINT=...` so a caller can `eval "$(scripts/start-moto.sh)"`.
#
# moto_server comes from the system Python when it has one, else from a venv
# this script creates once in .build/moto-venv (pip install "moto[server]").
set -euo pipefail
cd "$(dirname "$0")/.."
STATE_DIR=${MOTO_STATE_DIR:-.build/moto}
mkdir -p "$STATE_DIR"

if command -v moto_server >/dev/null 2>&1; then
  MOTO=$(command -v moto_server)
else
  VENV=.build/moto-venv
  if [ ! -x "$VENV/bin/moto_server" ]; then
    python3 -m venv "$VENV" >&2
    "$VENV/bin/pip" install -q "moto[server]" boto3 >&2
  fi
  MOTO=$VENV/bin/moto_server
fi

# Ask the kernel for a free port, then hand it to moto (a small race is acceptable on loopback).
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$MOTO" -H 127.0.0.1 -p "$PORT" >"$STATE_DIR/moto.log" 2>&1 &
PID=$!
echo "$PID" >"$STATE_DIR/pid"
ENDPOINT="http://127.0.0.1:$PORT"

for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null "$ENDPOINT/moto-api/" 2>/dev/null; then
    echo "$ENDPOINT" >"$STATE_DIR/endpoint"
    echo "export MOTO_ENDPOINT=$ENDPOINT"
    exit 0
  fi
  if ! kill -0 "$PID" 2>/dev/null; then break; fi
  sleep 0.1
done
echo "moto_server did not start; see $STATE_DIR/moto.log" >&2
kill "$PID" 2>/dev/null || true
exit 1
