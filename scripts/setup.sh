#!/usr/bin/env bash
# Installs the system packages AssetWorker needs, only when they are missing.
# Idempotent; works as root or through sudo. Usage: bash scripts/setup.sh
#   --browser: only Debian's chromium, for the browser tests of the preview page
#   (scripts/test.sh asks for it; scripts/run.sh never does).
set -euo pipefail

if [ "${1:-}" = "--browser" ]; then
    packages=(chromium)
else
packages=(
    pkg-config
    libpng-dev      # PNG codec
    libdeflate-dev  # PNG's whole-buffer reader: the IDAT data inflated in one call
    libjpeg-dev     # JPEG codec (libjpeg-turbo on Debian)
    libgif-dev      # GIF codec
    zlib1g-dev      # libpng's compressor, used directly for PNG encoding settings
    libsqlite3-dev  # the job journal (GRDB)
    liblcms2-dev    # colour management (Little CMS 2): profiles to sRGB
    libgs-common    # Ghostscript's default CMYK profile, for CMYK without one
    colord-data icc-profiles-free  # profiles scripts/make-colour-testset.sh builds TestImages/colour from
    python3 python3-venv curl  # moto_server (S3) for the upload tests: started by scripts/start-moto.sh
    postgresql-15   # the PostgreSQL queue's tests: a throwaway server started by scripts/start-postgres.sh
)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "setup: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
