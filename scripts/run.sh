#!/usr/bin/env bash
# The main job: builds asset-worker (release) and processes every image in
# TestImages/ locally, printing the parent and child records as JSON lines and
# writing the derived images to out/.  Usage: bash scripts/run.sh [extra process flags]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
swift build -c release --product asset-worker 2>&1 | grep -E "error|warning: unre|Compiling asset|Build complete" || true
[ -x .build/release/asset-worker ] || { echo "build failed" >&2; exit 1; }

shopt -s nullglob
images=(TestImages/*.png TestImages/*.jpg TestImages/*.gif)
exec .build/release/asset-worker process "${images[@]}" \
    --thumbnails 100x100,150x150 --scale 300x --rotate 90 --out out --json "$@"
