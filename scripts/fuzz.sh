#!/usr/bin/env bash
# Builds the libFuzzer target (Fuzz/, a separate SwiftPM package) and fuzzes one
# decoder for a number of seconds, on one core, niced.
#
#   bash scripts/fuzz.sh <png|jpeg|gif> <seconds> [extra libFuzzer flags...]
#
# Everything it produces lives under $FUZZ_WORK (default /tmp/aw-fuzz), never in
# the repository: the build, seed and working corpora, crash artefacts and logs.
# Runs accumulate: the working corpus of a format is reused by the next run.
# Environment: FUZZ_NO_BUILD=1 skips the build; FUZZ_WORK moves the work dir.
# After the run, one summary line is appended to $FUZZ_WORK/runs.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

format=${1:?usage: fuzz.sh <png|jpeg|gif> <seconds> [libFuzzer flags...]}
seconds=${2:?usage: fuzz.sh <png|jpeg|gif> <seconds> [libFuzzer flags...]}
shift 2
case "$format" in
    png) exts="png apng" ;;
    jpeg) exts="jpg jpeg" ;;
    gif) exts="gif" ;;
    *) echo "format must be png, jpeg or gif" >&2; exit 2 ;;
esac

work=${FUZZ_WORK:-/tmp/aw-fuzz}
build="$work/build"
binary="$build/release/ImagingFuzzer"
mkdir -p "$work/logs" "$work/corpus-$format" "$work/artifacts-$format" "$work/seeds-$format"

if [ "${FUZZ_NO_BUILD:-0}" != 1 ]; then
    # --sanitize fuzzer --sanitize address: SwiftPM compiles the C shim (CImageCodecs)
    # with -fsanitize=fuzzer,address, links libFuzzer + ASan, and (because of
    # "fuzzer") does not rename the executable's entry point, so libFuzzer's main is
    # the only main. But it passes them to swiftc as two separate -sanitize= flags and
    # the last one wins, so the Swift code would get ASan and NO coverage counters:
    # -Xswiftc -sanitize=fuzzer,address (passed after them) fixes that.
    # -parse-as-library: the target has no main.swift and must not define main.
    nice -n 10 swift build -c release --package-path Fuzz --scratch-path "$build" \
        --product ImagingFuzzer --sanitize fuzzer --sanitize address \
        -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -j 1
fi

# Seeds: every file of this format in the shared corpus (MANIFEST.tsv's format
# column, valid and invalid alike) plus the small benchmark images. Seeds larger
# than -max_len are truncated by libFuzzer, which still makes useful inputs.
corpus_dir=${CORPUS_DIR:-/work/shared/corpus}
if [ -f "$corpus_dir/MANIFEST.tsv" ]; then
    awk -F'\t' -v f="$format" 'NR > 1 && $2 == f { print $1 }' "$corpus_dir/MANIFEST.tsv" |
        while IFS= read -r rel; do
            [ -f "$corpus_dir/$rel" ] && cp -f "$corpus_dir/$rel" "$work/seeds-$format/$(echo "$rel" | tr '/' '_')"
        done
fi
for ext in $exts; do
    find /work/shared/bench/images -maxdepth 1 -iname "*.$ext" -size -512k \
        -exec cp -f {} "$work/seeds-$format/" \; 2>/dev/null || true
done
# The colour set: ICC profiles (corrupt and mismatched ones too) and CMYK/YCCK for the lcms2 step.
for ext in $exts; do
    find "$root/TestImages/colour" -maxdepth 1 -iname "*.$ext" -exec cp -f {} "$work/seeds-$format/" \; 2>/dev/null || true
done
# The project's own regressions too.
for ext in $exts; do
    find "$root/TestImages/fuzz-regressions" -maxdepth 1 -iname "$format-*.$ext" \
        -exec cp -f {} "$work/seeds-$format/" \; 2>/dev/null || true
done

stamp=$(date +%Y%m%d-%H%M%S)
log="$work/logs/$format-$stamp.log"
flags=(
    -max_total_time="$seconds"
    -rss_limit_mb=2048      # unbounded allocation = finding (also per-malloc limit)
    -timeout=10             # one input taking over 10 s = hang finding
    -max_len=65536
    -use_value_profile=1
    -dict="$root/Fuzz/dicts/$format.dict"
    -artifact_prefix="$work/artifacts-$format/"
    -print_final_stats=1
    -reload=0
)
echo "fuzzing $format for $seconds s; log: $log"
start=$(date +%s)
# -max_total_time is wall-clock time; the CPU time the fuzzer really got (it is
# niced on a shared machine) is measured with bash's `time` and recorded too.
cpu_file=$(mktemp "$work/cpu.XXXXXX")
set +e
{
    TIMEFORMAT='%U %S'
    time (FUZZ_FORMAT=$format nice -n 10 "$binary" "${flags[@]}" "$@" \
        "$work/corpus-$format" "$work/seeds-$format" >"$log" 2>&1)
} 2>"$cpu_file"
status=$?
set -e
cpu=$(awk '{ printf "%.0f", $1 + $2 }' "$cpu_file")
rm -f "$cpu_file"
end=$(date +%s)

execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
eps=$(grep -oE 'stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
rss=$(grep -oE 'stat::peak_rss_mb: *[0-9]+' "$log" | grep -oE '[0-9]+$' || echo "?")
last=$(grep -E '^#[0-9]+' "$log" | tail -n 1)
cov=$(echo "$last" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+' || echo "?")
ft=$(echo "$last" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+' || echo "?")
corp=$(echo "$last" | grep -oE 'corp: [0-9]+' | grep -oE '[0-9]+' || echo "?")
findings=$(grep -cE '^==[0-9]+==ERROR|ALARM: working on the last Unit|out-of-memory|deadly signal|Fatal error' "$log" || true)
[ -f "$work/runs.tsv" ] || printf 'date\tformat\tseconds\tcpu_seconds\texit\texecs\texec_per_s\tcov\tft\tcorpus\tpeak_rss_mb\tfindings\tlog\n' >"$work/runs.tsv"
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$stamp" "$format" "$((end - start))" "$cpu" "$status" \
    "$execs" "$eps" "$cov" "$ft" "$corp" "$rss" "$findings" "$log" >>"$work/runs.tsv"
tail -n 1 "$work/runs.tsv"
tail -n 25 "$log" | grep -E 'DONE|ERROR|SUMMARY|Test unit written|stat::' || true
exit "$status"
