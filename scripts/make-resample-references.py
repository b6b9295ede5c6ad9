#!/usr/bin/env python3
"""Writes Pillow's resize output for a few real photos to
Tests/ImagingTests/Reference/resample/, with cases.tsv describing each case.

ResampleTests decodes the same input (from /work/shared, cropped the same way),
resizes it with AssetWorker and requires PSNR >= 40 dB against these files.

Run:  python3 -m venv /tmp/venv-ref && /tmp/venv-ref/bin/pip install pillow numpy
      /tmp/venv-ref/bin/python scripts/make-resample-references.py
"""
import os
import sys

import PIL
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(ROOT), "shared")
OUT = os.path.join(ROOT, "Tests", "ImagingTests", "Reference", "resample")

FILTERS = {
    "nearest": Image.Resampling.NEAREST,
    "box": Image.Resampling.BOX,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos3": Image.Resampling.LANCZOS,
}

# (input path relative to /work/shared, crop box x, y, w, h, output w, h, filter)
CASES = [
    ("corpus/png/photo/kodim23.png", 0, 0, 768, 512, 96, 64, "lanczos3"),     # 8x down
    ("corpus/png/photo/kodim23.png", 0, 0, 768, 512, 233, 155, "bicubic"),    # 3.3x down
    ("corpus/png/photo/kodim23.png", 0, 0, 768, 512, 384, 256, "bilinear"),   # 2x down
    ("corpus/png/photo/kodim23.png", 300, 200, 120, 90, 204, 153, "lanczos3"),  # 1.7x up
    ("corpus/png/photo/kodim23.png", 300, 200, 120, 90, 240, 180, "bicubic"),   # 2x up
    ("bench/images/rgb2560.png", 960, 600, 640, 400, 427, 267, "lanczos3"),   # 1.5x down
    ("bench/images/rgb2560.png", 960, 600, 640, 400, 320, 200, "box"),        # 2x down
    ("bench/images/rgb2560.png", 960, 600, 640, 400, 80, 50, "lanczos3"),     # 8x down
    ("bench/images/rgb2560.png", 960, 600, 640, 400, 160, 100, "nearest"),
    ("bench/images/rgba2560.png", 0, 0, 640, 400, 194, 121, "lanczos3"),      # RGBA, 3.3x down
    ("bench/images/logo.png", 0, 0, 1000, 400, 300, 120, "lanczos3"),         # RGBA, flat + transparent
]


def main():
    os.makedirs(OUT, exist_ok=True)
    lines = ["name\tinput\tx\ty\tw\th\tout_w\tout_h\tfilter"]
    for path, x, y, w, h, ow, oh, flt in CASES:
        image = Image.open(os.path.join(SHARED, path))
        image.load()
        crop = image.crop((x, y, x + w, y + h))
        out = crop.resize((ow, oh), FILTERS[flt])
        stem = os.path.splitext(os.path.basename(path))[0]
        name = f"{stem}-{x}-{y}-{w}x{h}-to-{ow}x{oh}-{flt}.png"
        out.save(os.path.join(OUT, name), optimize=True)
        lines.append("\t".join(str(v) for v in (name, path, x, y, w, h, ow, oh, flt)))
    with open(os.path.join(OUT, "cases.tsv"), "w") as f:
        f.write(f"# Pillow {PIL.__version__} resize outputs; see scripts/make-resample-references.py\n")
        f.write("\n".join(lines) + "\n")
    total = sum(os.path.getsize(os.path.join(OUT, n)) for n in os.listdir(OUT))
    print(f"wrote {len(CASES)} references, {total / 1e6:.2f} MB, Pillow {PIL.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
