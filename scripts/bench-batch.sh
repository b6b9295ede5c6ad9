#!/usr/bin/env bash
# Throughput benchmark of the batch uploader (a benchmark, not a test):
# 200 eCards (50 campaigns x 4) made from the real photos in ../shared/corpus/photos,
# uploaded to the in-process sandbox over loopback with 20 ms added to every
# request. Reports images per second, peak RSS, and CPU time / wall time: a
# ratio near the number of cores means the run is bound by processing, not by
# waiting on the network. Compares with the same run at 0 ms latency.
# Usage: bash scripts/bench-batch.sh [jobs-in-flight]
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-8}
PHOTOS=$(cd ../shared/corpus/photos && pwd)
swift build -c release --product asset-worker 2>&1 | grep -E "error:|Build complete" || true
BIN=.build/release/asset-worker
WORK=$(mktemp -d /tmp/asset-worker-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

python3 - "$PHOTOS" "$WORK/ecards.yml" <<'PY'
import os, sys
photos = sorted(os.path.join(sys.argv[1], f) for f in os.listdir(sys.argv[1]) if f.endswith(".jpg"))
with open(sys.argv[2], "w") as out:
    out.write("jobs:\n")
    for i in range(200):
        out.write(f"  - role: ecard\n    source: {photos[i % len(photos)]}\n    campaign: {2000 + i // 4}\n    order: {i % 4 + 1}\n")
PY

run() { # latency-ms
    rm -rf "$WORK/state-$1"
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time-$1" \
        "$BIN" upload "$WORK/ecards.yml" --state-dir "$WORK/state-$1" --jobs "$JOBS" --sandbox-fault "latency-ms=$1" > "$WORK/out-$1" 2>&1
    read -r wall user sys rss < "$WORK/time-$1"
    images=$(grep -Eo "uploaded [0-9]+ image" "$WORK/out-$1" | grep -Eo "[0-9]+")
    python3 - "$1" "$wall" "$user" "$sys" "$rss" "$images" <<'PY'
import sys
lat, wall, user, sys_, rss, images = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
print(f"latency {lat:>3} ms: {images} images (200 eCards + their originals) in {wall:.1f} s = {images / wall:.1f} images/s, "
      f"{200 / wall:.1f} eCards/s; CPU {user + sys_:.1f} s = {(user + sys_) / wall:.2f} cores busy; peak RSS {rss / 1024:.0f} MiB")
PY
}
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
run 20
run 0
