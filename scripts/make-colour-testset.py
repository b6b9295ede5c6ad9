"""Builds TestImages/colour/ (sources) and TestImages/colour/reference/ (sRGB
pixels made by libvips' icc_transform), once, from profiles Debian ships
(colord-data, libgs-common) and two lcms2 generates (scripts/colour-testset-tools.c).

    bash scripts/make-colour-testset.sh     # builds the tool, the venv, then runs this

Reference rule, libvips' own: relative colorimetric intent, black-point
compensation, the embedded profile when it is usable, untagged CMYK through
the same default CMYK profile the worker uses, and an unusable or mismatched
profile ignored (the pixels are then taken as sRGB)."""
import sys
from pathlib import Path

import pyvips

root = Path(sys.argv[1])          # repository root
gen = Path(sys.argv[2])           # folder holding the lcms2-generated profiles
out = root / "TestImages" / "colour"
ref = out / "reference"
ref.mkdir(parents=True, exist_ok=True)
colord = Path("/usr/share/color/icc/colord")
gs = Path("/usr/share/color/icc/ghostscript")
default_cmyk = gs / "default_cmyk.icc"

# A natural photo, 128 px wide: enough texture and saturated colour for a ΔE test, a few KB per file.
photo = pyvips.Image.thumbnail(str(root.parent / "shared/bench/images/photo24mp.jpg"), 128)
photo = (photo.icc_transform("srgb") if photo.get_typeof("icc-profile-data") else photo).copy_memory()


def tagged(image, profile_bytes):
    image = image.copy()
    image.set_type(pyvips.GValue.blob_type, "icc-profile-data", profile_bytes)
    return image


def convert(image, profile):
    return image.icc_transform(str(profile), intent="relative", black_point_compensation=True)


def save(image, name, **kw):
    image.jpegsave(str(out / name), Q=90, **kw)


# RGB wide gamut: the sRGB photo expressed in Adobe RGB and in Display P3.
save(convert(photo, colord / "AdobeRGB1998.icc"), "adobe-rgb.jpg")
save(convert(photo, gen / "display-p3.icc"), "display-p3.jpg")
convert(photo, gen / "display-p3.icc").pngsave(str(out / "display-p3.png"))
# CMYK with its own (small) profile, and untagged CMYK made through the default one.
save(convert(photo, gs / "ps_cmyk.icc"), "cmyk-profile.jpg")
save(convert(photo, default_cmyk), "cmyk-untagged.jpg", keep=pyvips.enums.ForeignKeep.NONE)
# Gray with a gamma-2.2 profile.
save(convert(photo.colourspace("b-w"), gen / "gray-gamma22.icc"), "gray-gamma22.jpg")
# A truncated Adobe RGB profile on sRGB pixels, and an RGB profile on gray pixels.
adobe = (colord / "AdobeRGB1998.icc").read_bytes()
save(tagged(photo, adobe[:300]), "corrupt-profile.jpg")
# libvips will not write an RGB profile on gray, so the APP2 marker is spliced in after SOI.
save(photo.colourspace("b-w")[0], "mismatched-profile.jpg")
jpeg = (out / "mismatched-profile.jpg").read_bytes()
icc = (gs / "srgb.icc").read_bytes()
app2 = b"ICC_PROFILE\0\x01\x01" + icc
(out / "mismatched-profile.jpg").write_bytes(jpeg[:2] + b"\xff\xe2" + (len(app2) + 2).to_bytes(2, "big") + app2 + jpeg[2:])

# (YCCK is re-encoded from cmyk-profile.jpg by the C tool before the references are made.)
