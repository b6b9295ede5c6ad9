#!/usr/bin/env bash
# The PNG readers side by side in one process, on the files given (default: the
# benchmark PNGs): best-of-N CPU ms and libpng / reader, pixels checked identical.
# Built with clang -O2, as SwiftPM builds the package's C (CC= to choose another).
#   bash scripts/bench-probes/png-readers.sh [FILE.png ...]     (ROUNDS=7)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
CODECS="$ROOT/Sources/CImageCodecs"
BIN="$(mktemp /tmp/png-readers.XXXXXX)"
trap 'rm -f "$BIN"' EXIT
"${CC:-clang}" -O2 -I"$CODECS/include" -I"$CODECS" "$ROOT/scripts/bench-probes/png_readers.c" "$CODECS/png_codec.c" \
    "$CODECS/png_whole_buffer.c" "$CODECS/common.c" -lpng16 -ldeflate -lz -o "$BIN"
[ $# -gt 0 ] || set -- "$ROOT/../shared/bench/images/rgba2560.png" "$ROOT/../shared/bench/images/rgb2560.png" \
    "$ROOT/../shared/bench/images/logo.png"
echo "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$ROOT" rev-parse --short HEAD)"
for file in "$@"; do "$BIN" "$file" "${ROUNDS:-7}"; done
