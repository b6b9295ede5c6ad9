#!/usr/bin/env bash
# Compares asset-worker's cover-crop boxes with libvips' smartcrop on the
# corpus portraits and photos, for the attention and entropy strategies, and
# prints a Markdown table (docs/smart-crops.md holds a run of it).
#
# Needs the vips command line (Debian: apt-get install libvips-tools; the same
# libvips pyvips would drive) and a built asset-worker (swift build).
# Usage: bash scripts/compare-smartcrop.sh [CORPUS_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
corpus="${1:-$root/../shared/corpus}"
worker="$root/.build/release/asset-worker"
[ -x "$worker" ] || worker="$root/.build/debug/asset-worker"
command -v vips >/dev/null || { echo "compare-smartcrop: needs the vips command (apt-get install libvips-tools)" >&2; exit 69; }
[ -x "$worker" ] || { echo "compare-smartcrop: build asset-worker first (swift build)" >&2; exit 69; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

images=(jpeg/exif-orientation/Portrait_{0,1,2,3,4}.jpg photos/mate-LadyBird.jpg photos/mate-RainDrops.jpg
        photos/mate-Storm.jpg photos/mate-Wood.jpg photos/Kleiber_by_Lukas_Baubkus.jpg)
targets=(600x400 200x200)

echo "libvips $(vips --version | head -1 | sed 's/vips-//'), asset-worker $(git -C "$root" rev-parse --short HEAD)"
echo
echo "| image | thumbnail | box | strategy | asset-worker (x,y) | libvips (x,y) | apart, px | apart, % of slide |"
echo "|---|---|---|---|---|---|---|---|"
for image in "${images[@]}"; do
    source="$corpus/$image"
    # libvips' smartcrop works on the pixels as stored: turn them upright first, as asset-worker does.
    vips autorot "$source" "$work/upright.v"
    width=$(vipsheader -f width "$work/upright.v"); height=$(vipsheader -f height "$work/upright.v")
    for target in "${targets[@]}"; do
        for strategy in attention entropy; do
            record=$("$worker" process "$source" --thumbnails "$target" --crop-strategy "$strategy" --json 2>/dev/null | sed -n 2p)
            read -r x y w h < <(python3 -c 'import json,sys; b=json.loads(sys.argv[1])["crop_box"]; print(b["x"], b["y"], b["width"], b["height"])' "$record")
            vips smartcrop "$work/upright.v" "$work/crop.v" "$w" "$h" --interesting "$strategy"
            vx=$(( -$(vipsheader -f xoffset "$work/crop.v") )); vy=$(( -$(vipsheader -f yoffset "$work/crop.v") ))
            apart=$(( x > vx ? x - vx : vx - x )); apart_y=$(( y > vy ? y - vy : vy - y )); apart=$(( apart > apart_y ? apart : apart_y ))
            slide=$(( (width - w) > (height - h) ? width - w : height - h ))
            share=$([ "$slide" -gt 0 ] && python3 -c "print(f'{100*$apart/$slide:.0f}')" || echo "-")
            echo "| $(basename "$image") | $target | ${w}x${h} of ${width}x${height} | $strategy | ($x,$y) | ($vx,$vy) | $apart | $share |"
        done
    done
done
