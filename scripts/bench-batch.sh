#!/usr/bin/env bash
# Throughput benchmark of the batch uploader (a benchmark, not a test).
#
# 200 eCards (50 campaigns x 4) made from the real photos in ../shared/corpus/photos,
# uploaded to a local sandbox (`asset-worker sandbox`, its own process, so the
# worker's CPU and memory are measured apart from the server's) over loopback,
# with 20 ms added to every request and without, alternating, ROUNDS rounds each
# (default 3). Then one run of 400 eCards, to show the worker's peak memory does
# not grow with the batch, and the same 200 sources processed without any upload
# (`asset-worker process`, one process per core), for the processing alone.
#
# Read the ratios, not the seconds (shared, noisy machines):
#   - images/s at 20 ms / images/s at 0 ms near 1: the run does not wait on the network
#     (also over the steady state alone, without the start-up and the tail);
#   - cores busy (worker + sandbox) near the core count: the run is bound by the CPU;
#   - processing CPU-s / worker CPU-s: how much of the worker's CPU is the
#     processing (the rest is uploading ~290 MB: MD5, HTTP, the journal).
# Usage: bash scripts/bench-batch.sh [jobs-in-flight] [rounds]
#
# PEER=1 bash scripts/bench-batch.sh [jobs] [rounds]: the project against
# ../shared/bench/peer_batch.py (Pillow-SIMD + aiohttp, no journal) instead,
# alternating project / peer round by round at 20 ms and at 0 ms, each run
# against a fresh sandbox; prints images/s per run and project / peer per round.
# It makes what the peer needs when missing: /tmp/venv-peer (a venv with aiohttp) and
# /tmp/venv-simd (Pillow-SIMD, through ../shared/bench/run_anchors.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${1:-8}
ROUNDS=${2:-3}
PHOTOS=$(cd ../shared/corpus/photos && pwd)
swift build -c release --product asset-worker 2>&1 | grep -E "error:|Build complete" || true
BIN=.build/release/asset-worker
WORK=$(mktemp -d /tmp/asset-worker-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

make_manifest() { # count file
    python3 - "$PHOTOS" "$1" "$2" <<'PY'
import os, sys
photos = sorted(os.path.join(sys.argv[1], f) for f in os.listdir(sys.argv[1]) if f.endswith(".jpg"))
count = int(sys.argv[2])
with open(sys.argv[3], "w") as out:
    out.write("jobs:\n")
    for i in range(count):
        out.write(f"  - role: ecard\n    source: {photos[i % len(photos)]}\n    campaign: {2000 + i // 4}\n    order: {i % 4 + 1}\n")
PY
}
make_manifest 200 "$WORK/ecards-200.yml"
make_manifest 400 "$WORK/ecards-400.yml"

# Prefixes each output line with the seconds since the first one, so the rate
# between the 10th and the 90th percentile of finished jobs (the steady state,
# without start-up and tail latency) can be read off the "job done" lines.
STAMP='
import sys, time
t0 = None
for line in sys.stdin:
    now = time.monotonic()
    t0 = t0 or now
    sys.stdout.write(f"{now - t0:.4f} {line}")
'
RESULTS="$WORK/results.tsv"
: > "$RESULTS"
run() { # eCards latency-ms
    rm -rf "$WORK/state" "$WORK/sandbox-data"
    "$BIN" sandbox --data "$WORK/sandbox-data" --campaigns 2000-2099 --fault "latency-ms=$2" > "$WORK/sandbox.out" 2>&1 &
    local sandbox=$!
    for _ in $(seq 100); do grep -q CLASSY_CLIENT_SECRET "$WORK/sandbox.out" && break; sleep 0.1; done
    local url id secret
    url=$(sed -n 's/^CLASSY_API_URL=//p' "$WORK/sandbox.out")
    id=$(sed -n 's/^CLASSY_CLIENT_ID=//p' "$WORK/sandbox.out")
    secret=$(sed -n 's/^CLASSY_CLIENT_SECRET=//p' "$WORK/sandbox.out")
    read -r -a before < <(cut -d' ' -f14,15 "/proc/$sandbox/stat")
    CLASSY_API_URL=$url CLASSY_CLIENT_ID=$id CLASSY_CLIENT_SECRET=$secret CLASSY_MEMBER_ID=1 \
        /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" \
        stdbuf -oL "$BIN" upload "$WORK/ecards-$1.yml" --state-dir "$WORK/state" --jobs "$JOBS" 2>&1 \
        | python3 -c "$STAMP" > "$WORK/out"
    read -r -a after < <(cut -d' ' -f14,15 "/proc/$sandbox/stat")
    kill "$sandbox"; wait "$sandbox" 2>/dev/null || true
    local ticks sandbox_cpu wall user sys rss images processing
    ticks=$(getconf CLK_TCK)
    sandbox_cpu=$(python3 -c "print(($(( after[0] + after[1] - before[0] - before[1] ))) / $ticks)")
    read -r wall user sys rss < "$WORK/time"
    images=$(grep -Eo "uploaded [0-9]+ image" "$WORK/out" | grep -Eo "[0-9]+")
    processing=$(grep -Eo "processing: [0-9.]+ CPU-s" "$WORK/out" | grep -Eo "[0-9.]+")
    steady=$(python3 - "$WORK/out" <<'PY'
import sys
done = [float(line.split(" ", 1)[0]) for line in open(sys.argv[1]) if line.rstrip().endswith("job done")]
lo, hi = len(done) // 10, len(done) * 9 // 10
print(f"{(hi - lo) / (done[hi - 1] - done[lo]):.2f}" if hi - 1 > lo else "nan")
PY
)
    printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$1" "$2" "$wall" "$user" "$sys" "$rss" "$images" "$processing" "$sandbox_cpu" "$steady" | tee -a "$RESULTS"
}

start_sandbox() { # latency-ms; sets SANDBOX and exports the CLASSY_* variables
    rm -rf "$WORK/state" "$WORK/sandbox-data"
    "$BIN" sandbox --data "$WORK/sandbox-data" --campaigns 2000-2099 --fault "latency-ms=$1" > "$WORK/sandbox.out" 2>&1 &
    SANDBOX=$!
    for _ in $(seq 100); do grep -q CLASSY_CLIENT_SECRET "$WORK/sandbox.out" && break; sleep 0.1; done
    export CLASSY_API_URL CLASSY_CLIENT_ID CLASSY_CLIENT_SECRET CLASSY_MEMBER_ID=1
    CLASSY_API_URL=$(sed -n 's/^CLASSY_API_URL=//p' "$WORK/sandbox.out")
    CLASSY_CLIENT_ID=$(sed -n 's/^CLASSY_CLIENT_ID=//p' "$WORK/sandbox.out")
    CLASSY_CLIENT_SECRET=$(sed -n 's/^CLASSY_CLIENT_SECRET=//p' "$WORK/sandbox.out")
}
stop_sandbox() { kill "$SANDBOX"; wait "$SANDBOX" 2>/dev/null || true; }

if [ "${PEER:-0}" = 1 ]; then
    PEER_PY=/tmp/venv-peer/bin/python
    if [ ! -x "$PEER_PY" ]; then
        python3 -m venv /tmp/venv-peer && /tmp/venv-peer/bin/pip install -q aiohttp \
            || { echo "cannot make /tmp/venv-peer (python3-venv and network to PyPI are needed)" >&2; exit 1; }
    fi
    if [ ! -x /tmp/venv-simd/bin/python ]; then
        SETUP_ONLY=1 bash ../shared/bench/run_anchors.sh || { echo "cannot install Pillow-SIMD (run_anchors.sh)" >&2; exit 1; }
    fi
    PEER_SCRIPT=$(cd ../shared/bench && pwd)/peer_batch.py
    echo "machine: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); jobs in flight $JOBS"
    printf "round\tlatency_ms\tproject_images_per_s\tpeer_images_per_s\tproject_over_peer\n"
    for round in $(seq "$ROUNDS"); do
        for latency in 20 0; do
            start_sandbox "$latency"
            t0=$(date +%s.%N)
            "$BIN" upload "$WORK/ecards-200.yml" --state-dir "$WORK/state" --jobs "$JOBS" > "$WORK/out" 2>&1
            t1=$(date +%s.%N)
            stop_sandbox
            ours=$(python3 -c "print(f'{$(grep -Eo "uploaded [0-9]+ image" "$WORK/out" | grep -Eo "[0-9]+") / ($t1 - $t0):.1f}')")
            start_sandbox "$latency"
            "$PEER_PY" "$PEER_SCRIPT" "$WORK/ecards-200.yml" --jobs "$JOBS" --json-out "$WORK/peer.json" > "$WORK/peer.out" 2>&1
            stop_sandbox
            theirs=$(python3 -c "import json; print(json.load(open('$WORK/peer.json'))['images_per_s'])")
            printf "%s\t%s\t%s\t%s\t%s\n" "$round" "$latency" "$ours" "$theirs" "$(python3 -c "print(f'{$ours / $theirs:.2f}')")"
        done
    done
    echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
    exit 0
fi

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); jobs in flight $JOBS"
printf "ecards\tlatency_ms\twall_s\tworker_user_s\tworker_sys_s\tworker_peak_rss_kb\timages\tprocessing_cpu_s\tsandbox_cpu_s\tsteady_jobs_per_s\n"
for _ in $(seq "$ROUNDS"); do
    run 200 20
    run 200 0
done
run 400 20

# The processing alone: the same 200 sources, cover-cropped to 600x400, one process per core, nothing uploaded.
python3 - "$PHOTOS" "$WORK/sources" <<'PY'
import os, sys
photos = sorted(os.path.join(sys.argv[1], f) for f in os.listdir(sys.argv[1]) if f.endswith(".jpg"))
open(sys.argv[2], "w").write("\n".join(photos[i % len(photos)] for i in range(200)) + "\n")
PY
start=$(date +%s.%N)
xargs -a "$WORK/sources" -n $(( (200 + $(nproc) - 1) / $(nproc) )) -P "$(nproc)" \
    "$BIN" process --thumbnails 600x400 --threads 1 --json > /dev/null
end=$(date +%s.%N)
echo "processing only: 200 sources in $(python3 -c "print(f'{$end - $start:.2f}')") s"

python3 - "$RESULTS" "$start" "$end" "$(nproc)" <<'PY'
import statistics, sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()]
cores = int(sys.argv[4])
processing_only = float(sys.argv[3]) - float(sys.argv[2])
def stats(ecards, latency):
    sel = [r for r in rows if r[0] == str(ecards) and r[1] == str(latency)]
    rate = [int(r[6]) / float(r[2]) for r in sel]
    worker = [float(r[3]) + float(r[4]) for r in sel]
    busy = [(w + float(r[8])) / float(r[2]) for w, r in zip(worker, sel)]
    share = [float(r[7]) / w for w, r in zip(worker, sel)]
    rss = [int(r[5]) / 1024 for r in sel]
    steady = [float(r[9]) for r in sel]
    return rate, busy, share, rss, steady
r20, b20, s20, m20, st20 = stats(200, 20)
r0, b0, s0, m0, st0 = stats(200, 0)
_, _, _, m400, _ = stats(400, 20)
ratios = [a / b for a, b in zip(r20, r0)]
steady_ratios = [a / b for a, b in zip(st20, st0)]
for name, r, b, s, m in (("20 ms", r20, b20, s20, m20), (" 0 ms", r0, b0, s0, m0)):
    print(f"200 eCards, {name}: {statistics.median(r):.1f} images/s (median of {len(r)}), {statistics.median(b):.2f} of {cores} cores busy "
          f"(worker + sandbox), processing {statistics.median(s):.0%} of the worker's CPU, worker peak RSS {max(m):.0f} MiB")
print(f"20 ms / 0 ms throughput, per round: {', '.join(f'{x:.2f}' for x in ratios)} (median {statistics.median(ratios):.2f})")
print(f"steady state (10th to 90th percentile of finished jobs): {statistics.median(st20):.1f} eCards/s at 20 ms, "
      f"{statistics.median(st0):.1f} at 0 ms; ratio per round {', '.join(f'{x:.2f}' for x in steady_ratios)} "
      f"(median {statistics.median(steady_ratios):.2f})")
print(f"worker peak RSS: 200 eCards {max(m20):.0f} MiB, 400 eCards {max(m400):.0f} MiB")
print(f"eCards/s with uploads (20 ms) / eCards/s of the processing alone: {statistics.median(r20) / 2 / (200 / processing_only):.2f}")
PY
