#!/usr/bin/env bash
# docs/colour-ycck-before-after.png: the corpus YCCK photo at 300 px wide, the
# old formula conversion (left) next to the worker's lcms2 one (right), and the
# mean per-channel difference between the two. Needs a built asset-worker and
# the pyvips venv of scripts/make-colour-testset.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${COLOUR_WORK:-/tmp/aw-colour-testset}
source=../shared/corpus/jpeg/jpeg-decoder/ycck.jpg
rm -rf "$work/after" && mkdir -p "$work/after"
.build/debug/asset-worker process "$source" --scale 300x --format png --out "$work/after" >/dev/null
"$work/venv/bin/python" - "$source" "$work"/after/ycck.scaled*.png docs/colour-ycck-before-after.png <<'PY'
import sys
import pyvips
source, after_path, out = sys.argv[1:4]
cmyk = pyvips.Image.new_from_file(source)            # libvips hands out ink amounts (Adobe inversion undone)
c, m, y, k = [255 - cmyk[i] for i in range(4)]
before = (c * k / 255).bandjoin([m * k / 255, y * k / 255]).cast("uchar")
after = pyvips.Image.new_from_file(after_path)
before = before.resize(after.width / before.width, vscale=after.height / before.height, kernel="lanczos3")
diff = (before.cast("float") - after.cast("float")).abs().avg()
print(f"mean |formula - lcms2| per channel: {diff:.1f} levels ({after.width}x{after.height})")
before.join(after, "horizontal", shim=8, background=255).pngsave(out, keep=pyvips.enums.ForeignKeep.NONE)
PY
ls -la docs/colour-ycck-before-after.png
