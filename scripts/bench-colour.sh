#!/usr/bin/env bash
# The colour step's cost on the 24 MP bench photo tagged Adobe RGB, side by side
# with libvips' icc_transform on the same decoded pixels (one thread each, best
# of RUNS, the two alternated ROUNDS times). Prints one line per round and the ratio.
# Needs the pyvips venv of scripts/make-colour-testset.sh. Usage: bash scripts/bench-colour.sh [ROUNDS] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
runs=${2:-3}
work=${COLOUR_WORK:-/tmp/aw-colour-testset}
py="$work/venv/bin/python"
profile=/usr/share/color/icc/colord/AdobeRGB1998.icc
cc -O2 -o "$work/colour-cost" Benchmarks/colour-cost.c Sources/CColour/colour.c -ISources/CColour/include -llcms2
VIPS_CONCURRENCY=1 "$py" - "$work" "$profile" "$rounds" "$runs" <<'PY'
import subprocess, sys, time
import pyvips
work, profile, rounds, runs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
src = pyvips.Image.new_from_file("../shared/bench/images/photo24mp.jpg")
tagged = src.icc_transform(profile, intent="relative", black_point_compensation=True).copy_memory()
raw = tagged.write_to_memory()
open(f"{work}/adobe24.rgb", "wb").write(raw)
pixels = tagged.width * tagged.height
ours_all, vips_all = [], []
for r in range(rounds):
    ours = float(subprocess.check_output([f"{work}/colour-cost", f"{work}/adobe24.rgb", str(pixels), profile, str(runs)]))
    best = 1e9
    for _ in range(runs):
        t = time.perf_counter()
        tagged.icc_transform("srgb", embedded=True, intent="relative", black_point_compensation=True).copy_memory()
        best = min(best, time.perf_counter() - t)
    ours_all.append(ours); vips_all.append(best)
    print(f"round {r + 1}: lcms2 shim {ours:.3f} s, libvips icc_transform {best:.3f} s ({pixels / 1e6:.1f} MP)")
print(f"ratio (ours / libvips, best rounds): {min(ours_all) / min(vips_all):.2f}")
PY
