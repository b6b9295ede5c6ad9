#!/usr/bin/env bash
# The main job: builds asset-worker (release) and uploads TestImages/ as
# described by TestImages/campaign-1001.yml (a campaign logo with thumbnails,
# two eCards, two assets with actions). Without Classy credentials
# (CLASSY_CLIENT_ID / CLASSY_CLIENT_SECRET / CLASSY_MEMBER_ID) it uploads to the
# built-in local sandbox, whose data stays in .asset-worker/ so that
# `asset-worker status` and `asset-worker verify` work afterwards.
# Usage: bash scripts/run.sh [extra upload flags, e.g. --json]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh
swift build -c release --product asset-worker 2>&1 | grep -E "error:|Build complete" || true
[ -x .build/release/asset-worker ] || { echo "build failed" >&2; exit 1; }

exec .build/release/asset-worker upload TestImages/campaign-1001.yml --sandbox "$@"
