#!/usr/bin/env bash
# Regenerates TestImages/colour/ and its libvips references (run once; the
# outputs are committed). Needs liblcms2-dev, libjpeg-dev, colord-data,
# libgs-common (scripts/setup.sh) and PyPI for a throwaway pyvips venv in /tmp.
set -euo pipefail
cd "$(dirname "$0")/.."
work=${COLOUR_WORK:-/tmp/aw-colour-testset}
mkdir -p "$work"
cc -O1 -o "$work/tools" scripts/colour-testset-tools.c -ljpeg -llcms2
"$work/tools" profiles "$work"
if [ ! -x "$work/venv/bin/python" ]; then
    python3 -m venv "$work/venv"
    "$work/venv/bin/pip" install -q pyvips pyvips-binary
fi
"$work/venv/bin/python" scripts/make-colour-testset.py "$(pwd)" "$work"
"$work/tools" ycck TestImages/colour/cmyk-profile.jpg TestImages/colour/ycck.jpg
"$work/venv/bin/python" scripts/make-colour-references.py "$(pwd)"
du -sh TestImages/colour
