#!/usr/bin/env bash
# Benchmark (not a test) of the PostgreSQL queue: the 200-eCard batch (50
# campaigns x 4 orders) with the sandbox at latency-ms=100, the network-bound
# case several machines are for, on 1, 2 and 4 workers, each a process of its
# own with --jobs 8. Prints images/s per worker count, the ratio to linear
# scaling, and how long a SIGKILLed worker's jobs wait before another takes
# them (the lease). Writes docs/queue-benchmark.md.
#   bash scripts/bench-queue.sh [--rounds N] [--lease SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=1; LEASE=5
while [ $# -gt 0 ]; do
    case "$1" in
        --rounds) ROUNDS=$2; shift 2 ;;
        --lease) LEASE=$2; shift 2 ;;
        *) echo "usage: $0 [--rounds N] [--lease SECONDS]" >&2; exit 64 ;;
    esac
done
swift build -c release --product asset-worker >/dev/null
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
BIN=$PWD/.build/release/asset-worker
WORK=$(mktemp -d /tmp/bench-queue.XXXXXX)
eval "$(bash scripts/start-postgres.sh)"
SANDBOX_PID=
cleanup() { [ -n "$SANDBOX_PID" ] && kill "$SANDBOX_PID" 2>/dev/null; bash scripts/stop-postgres.sh >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT

{
    echo "jobs:"
    for campaign in $(seq 2000 2049); do
        for order in 1 2 3 4; do
            echo "  - {role: ecard, source: $PWD/TestImages/ecard-landscape-exif6.jpg, campaign: $campaign, order: $order}"
        done
    done
} >"$WORK/batch.yml"

start_sandbox() {
    "$BIN" sandbox --port 0 --campaigns 2000-2049 --fault latency-ms=100 >"$WORK/sandbox.out" 2>&1 &
    SANDBOX_PID=$!
    for _ in $(seq 100); do grep -q CLASSY_CLIENT_SECRET "$WORK/sandbox.out" 2>/dev/null && break; sleep 0.1; done
    set -a; eval "$(grep '^CLASSY_' "$WORK/sandbox.out")"; set +a
    export CLASSY_MEMBER_ID=5
}

fresh_queue() {
    local name=bench_$1
    psql "$DATABASE_URL" -q -c "DROP DATABASE IF EXISTS $name" -c "CREATE DATABASE $name"
    QUEUE="${DATABASE_URL%/*}/$name"
}

declare -A RATE
for workers in 1 2 4; do
    for round in $(seq "$ROUNDS"); do
        start_sandbox
        fresh_queue "w${workers}_r${round}"
        "$BIN" enqueue "$WORK/batch.yml" --queue "$QUEUE" --state-dir "$WORK/enq" >/dev/null 2>&1
        start=$(date +%s.%N)
        pids=()
        for w in $(seq "$workers"); do
            "$BIN" work --queue "$QUEUE" --jobs 8 --lease "$LEASE" --state-dir "$WORK/w$w" >/dev/null 2>"$WORK/w$w.err" &
            pids+=($!)
        done
        for pid in "${pids[@]}"; do wait "$pid"; done
        end=$(date +%s.%N)
        rate=$(python3 -c "print(f'{400 / ($end - $start):.1f}')")
        RATE[$workers]="${RATE[$workers]:-} $rate"
        kill "$SANDBOX_PID"; wait "$SANDBOX_PID" 2>/dev/null || true; SANDBOX_PID=
    done
done

# Takeover: two workers, one SIGKILLed 3 s in; how long until the survivor has claimed
# one of the dead worker's jobs (its asset_worker_jobs_reclaimed_total, read from its metrics port).
start_sandbox
fresh_queue takeover
"$BIN" enqueue "$WORK/batch.yml" --queue "$QUEUE" --state-dir "$WORK/enq" >/dev/null 2>&1
METRICS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$BIN" work --queue "$QUEUE" --jobs 8 --lease "$LEASE" --state-dir "$WORK/t1" >/dev/null 2>&1 & VICTIM=$!
"$BIN" work --queue "$QUEUE" --jobs 8 --lease "$LEASE" --state-dir "$WORK/t2" --metrics-port "$METRICS_PORT" >/dev/null 2>&1 & SURVIVOR=$!
sleep 3
kill -9 "$VICTIM"; killed=$(date +%s.%N)
reclaimed() { curl -s "http://127.0.0.1:$METRICS_PORT/metrics" | awk '/^asset_worker_jobs_reclaimed_total/ {print $2}'; }
while :; do
    n=$(reclaimed)
    [ -n "$n" ] && python3 -c "import sys; sys.exit(0 if float('$n') > 0 else 1)" && break
    kill -0 "$SURVIVOR" 2>/dev/null || { echo "bench-queue: the survivor ended before taking any job over" >&2; break; }
    sleep 0.05
done
taken=$(date +%s.%N)
wait "$SURVIVOR"
TAKEOVER=$(python3 -c "print(f'{$taken - $killed:.2f}')")

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
report=$(python3 - "$TAKEOVER" "$LEASE" "${RATE[1]}" "${RATE[2]}" "${RATE[4]}" "$(nproc)" <<'PY'
import statistics, sys
takeover, lease = sys.argv[1], sys.argv[2]
cores = int(sys.argv[6])
rates = {w: [float(x) for x in sys.argv[3 + i].split()] for i, w in enumerate([1, 2, 4])}
med = {w: statistics.median(v) for w, v in rates.items()}
print("| workers | images/s (median) | rounds | vs linear |")
print("|---|---|---|---|")
for w in [1, 2, 4]:
    print(f"| {w} | {med[w]:.1f} | {' '.join(f'{x:.1f}' for x in rates[w])} | {med[w] / (w * med[1]):.2f} |")
print()
ratio = {w: med[w] / (w * med[1]) for w in [1, 2, 4]}
print(f"Where the curve bends on this {cores}-core machine: 2 workers reach {ratio[2]:.2f} of linear and 4 workers {ratio[4]:.2f}. "
      f"Every worker decodes, resizes and encodes its images, and the sandbox and PostgreSQL run on the same {cores} cores, "
      f"so past {cores} busy processes the cores, not the queue, are the limit (the goal of 0.9 of linear holds only while they are not).")
print()
print(f"Takeover after SIGKILL: {takeover} s from the kill until the survivor had claimed one of the dead worker's jobs (lease {lease} s; goal: within lease + 1 s).")
PY
)
mkdir -p docs
# Earlier runs stay below the report, under "## History" (added to by hand with their commit).
history=""
[ -f docs/queue-benchmark.md ] && history=$(sed -n '/^## History/,$p' docs/queue-benchmark.md)
{
    echo "# Queue benchmark"
    echo
    echo "Generated by \`bash scripts/bench-queue.sh --rounds $ROUNDS --lease $LEASE\` on $(date -u +%Y-%m-%d), commit $(git rev-parse --short HEAD)."
    echo "Machine: $CPU, $(nproc) cores; load average before the runs: $LOAD_START, after: $LOAD. 200 eCards (400 images) against the sandbox at latency-ms=100, each worker a process with --jobs 8, PostgreSQL 15 on loopback."
    echo
    echo "$report"
    if [ -n "$history" ]; then echo; echo "$history"; fi
} >docs/queue-benchmark.md
cat docs/queue-benchmark.md
# The README's copy, between its queue-bench markers, is this report (never edited by hand).
python3 - <<'PY'
import re
readme = open("README.md").read()
body = open("docs/queue-benchmark.md").read().split("\n", 2)[2].split("\n## History")[0].strip()
new, n = re.subn(r"(<!-- queue-bench:begin -->\n).*?(\n<!-- queue-bench:end -->)", lambda m: m.group(1) + body + m.group(2), readme, flags=re.S)
if n:
    open("README.md", "w").write(new)
    print("README queue benchmark updated")
PY
