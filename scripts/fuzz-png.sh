#!/usr/bin/env bash
# Differential fuzzing of the PNG readers (libpng alone against the whole-buffer
# reader on both kernel paths) with libFuzzer, AddressSanitizer and UBSan, through
# the Swift toolchain's clang. Seeds: the corpus PNGs under 200 KB, the benchmark
# logo and small hand-made files of every colour type, depth and filter.
#   bash scripts/fuzz-png.sh [seconds]      (default 300; work files in /tmp/asset-worker-fuzz-png)
# A finding is written there as crash-*, and the script exits non-zero.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_TO_RUN="${1:-300}"
WORK=/tmp/asset-worker-fuzz-png
mkdir -p "$WORK/seeds" "$WORK/corpus"
CODECS="$ROOT/Sources/CImageCodecs"
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$CODECS/include" -I"$CODECS" \
    "$ROOT/scripts/fuzz/png_readers_fuzz.c" "$CODECS/png_codec.c" "$CODECS/png_whole_buffer.c" "$CODECS/common.c" \
    -lpng16 -ldeflate -lz -o "$WORK/png_readers_fuzz"
find "$ROOT/../shared/corpus" -name '*.png' -size -200k | while read -r f; do
    cp "$f" "$WORK/seeds/$(echo "${f#"$ROOT/../shared/corpus/"}" | tr '/' '_')"
done
cp "$ROOT/../shared/bench/images/logo.png" "$WORK/seeds/"
python3 - "$WORK/seeds" <<'PY'
import random, struct, sys, zlib
random.seed(1)
def chunk(t, b): return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(t + b) & 0xffffffff)
def png(w, h, ct, bd, extra):
    rb = (w * {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ct] * bd + 7) // 8
    raw = b"".join(bytes([y % 5]) + bytes(random.randrange(256) for _ in range(rb)) for y in range(h))
    ihdr = chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, bd, ct, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + ihdr + extra + chunk(b"IDAT", zlib.compress(raw, 0)) + chunk(b"IEND", b"")
for ct, depths in [(0, [1, 2, 4, 8, 16]), (2, [8, 16]), (4, [8, 16]), (6, [8, 16]), (3, [1, 2, 4, 8])]:
    for bd in depths:
        for w in [1, 5, 17]:
            extra = b""
            if ct == 3:
                extra = chunk(b"PLTE", bytes(random.randrange(256) for _ in range(3 << bd)))
                if w == 5: extra += chunk(b"tRNS", b"\x10\x80\xff")
            open(f"{sys.argv[1]}/hand_{ct}_{bd}_{w}.png", "wb").write(png(w, 7, ct, bd, extra))
PY
cd "$WORK"
exec ./png_readers_fuzz -max_total_time="$SECONDS_TO_RUN" -max_len=200000 -rss_limit_mb=2048 -print_final_stats=1 corpus seeds
