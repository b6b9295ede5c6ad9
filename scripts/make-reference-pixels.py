#!/usr/bin/env python3
"""Decodes every valid file of the shared corpus with a *second* decoder and
writes digests of its pixels, so the project's decoders are checked against
independent implementations rather than against their own output.

  PNG  -> libvips 8.18 (pyvips-binary, which reads PNG with libspng, not libpng);
          16-bit samples keep their high byte.
  JPEG -> Pillow 13 (its own build of libjpeg-turbo 3.x), EXIF orientation applied.
  GIF  -> Pillow 13 (its own LZW decoder and frame compositing) and libvips
          (libnsgif); both rows are written, the test says which it follows.

Every frame is normalised to 8-bit RGBA with the colour of fully transparent
pixels set to 0, then summarised as a SHA-256 and an 8x8 grid of block
means (for the tolerant JPEG comparison).

usage: python3 -m venv /tmp/venv-ref && /tmp/venv-ref/bin/pip install pillow==13.0.0 pyvips pyvips-binary numpy
       /tmp/venv-ref/bin/python scripts/make-reference-pixels.py ../shared/corpus Tests/ImagingTests/Reference/pixels.tsv
"""
import csv
import hashlib
import os
import sys

import numpy as np
import pyvips
from PIL import Image, ImageOps

def digest(frames) -> str:
    h = hashlib.sha256()
    for f in frames:
        h.update(f.tobytes())
    return h.hexdigest()


def canonical(rgba: np.ndarray) -> np.ndarray:
    rgba = rgba.copy()
    rgba[rgba[..., 3] == 0] = 0
    return rgba


def grid(rgba: np.ndarray) -> str:
    h, w, _ = rgba.shape
    cells = []
    for by in range(8):
        y0 = min(by * h // 8, h - 1)
        y1 = max(y0 + 1, (by + 1) * h // 8)
        for bx in range(8):
            x0 = min(bx * w // 8, w - 1)
            x1 = max(x0 + 1, (bx + 1) * w // 8)
            block = rgba[y0:y1, x0:x1].reshape(-1, 4).astype(np.float64)
            cells.extend(f"{v:.1f}" for v in block.mean(axis=0))
    return ",".join(cells)


def to_rgba(arr: np.ndarray) -> np.ndarray:
    if arr.ndim == 2:
        arr = arr[..., None]
    bands = arr.shape[2]
    if bands == 1:
        return np.concatenate([arr, arr, arr, np.full_like(arr, 255)], axis=2)
    if bands == 2:
        g, a = arr[..., :1], arr[..., 1:]
        return np.concatenate([g, g, g, a], axis=2)
    if bands == 3:
        return np.concatenate([arr, np.full_like(arr[..., :1], 255)], axis=2)
    return arr[..., :4]


def vips_frames(path, animated=False):
    if animated:
        img = pyvips.Image.new_from_file(path, n=-1, fail=True)
        page_height = img.get("page-height") if img.get_typeof("page-height") else img.height
    else:
        img = pyvips.Image.new_from_file(path, fail=True)
        page_height = img.height
    if img.format == "ushort":
        img = (img >> 8).cast("uchar")
    elif img.format != "uchar":
        img = img.cast("uchar")
    arr = np.ndarray(buffer=img.write_to_memory(), dtype=np.uint8, shape=[img.height, img.width, img.bands])
    frames = [to_rgba(arr[y : y + page_height]) for y in range(0, img.height, page_height)]
    return frames


def pillow_frames(path, kind):
    im = Image.open(path)
    if kind == "jpeg":
        im = ImageOps.exif_transpose(im)
        return [np.asarray(im.convert("RGBA"))]
    frames = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        frames.append(np.asarray(im.convert("RGBA")))
    return frames


def row(path, decoder, frames):
    frames = [canonical(f) for f in frames]
    height, width, _ = frames[0].shape
    return [path, decoder, len(frames), width, height, digest(frames[:1]), digest(frames), grid(frames[0])]


def main():
    corpus, out = sys.argv[1], sys.argv[2]
    rows = []
    with open(os.path.join(corpus, "MANIFEST.tsv")) as f:
        for rec in csv.DictReader(f, delimiter="\t"):
            if rec["expected"] != "valid":
                continue
            path, kind = rec["path"], rec["format"]
            full = os.path.join(corpus, path)
            try:
                if kind == "png":
                    rows.append(row(path, "vips", vips_frames(full)))
                elif kind == "jpeg":
                    rows.append(row(path, "pillow", pillow_frames(full, "jpeg")))
                elif kind == "gif":
                    rows.append(row(path, "pillow", pillow_frames(full, "gif")))
                    rows.append(row(path, "vips", vips_frames(full, animated=True)))
            except Exception as e:  # noqa: BLE001 - report and continue
                print(f"{path}: {e}", file=sys.stderr)
            print(path, file=sys.stderr)
    with open(out, "w") as f:
        f.write("path\tdecoder\tframes\twidth\theight\tsha256_first\tsha256_all\tgrid8x8_rgba_means\n")
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")


if __name__ == "__main__":
    main()
