"""The reference half of scripts/make-colour-testset.sh: sRGB pixels of every
TestImages/colour/*.jpg|png by libvips' icc_transform, as 8-bit PNG (untagged)."""
import sys
from pathlib import Path

import pyvips

out = Path(sys.argv[1]) / "TestImages" / "colour"
default_cmyk = "/usr/share/color/icc/ghostscript/default_cmyk.icc"
for source in sorted(list(out.glob("*.jpg")) + list(out.glob("*.png"))):
    image = pyvips.Image.new_from_file(str(source))
    cmyk = image.interpretation == "cmyk"
    has_profile = image.get_typeof("icc-profile-data") != 0
    usable = False
    if has_profile:
        try:
            pixels = image.icc_transform("srgb", embedded=True, intent="relative", black_point_compensation=True)
            pixels = pixels.copy_memory()
            usable = pixels.interpretation == "srgb" and pixels.bands in (3, 4)
        except pyvips.Error:
            usable = False
        # libvips accepts a profile on the wrong kind of pixels by ignoring it; check the model too.
        space = image.get("icc-profile-data")[16:20]
        if (space == b"GRAY") != (image.bands in (1, 2)) and not cmyk:
            usable = False
    if not usable:
        if cmyk:
            pixels = image.icc_transform("srgb", input_profile=default_cmyk, intent="relative", black_point_compensation=True)
        else:
            pixels = image  # ignored profile or untagged: already sRGB
    pixels = pixels.copy()
    pixels.remove("icc-profile-data") if pixels.get_typeof("icc-profile-data") else None
    name = source.stem + ("-png" if source.suffix == ".png" else "") + ".png"
    pixels.cast("uchar").pngsave(str(out / "reference" / name), keep=pyvips.enums.ForeignKeep.NONE)
    print(f"{source.name}: {'embedded' if usable else ('default CMYK' if cmyk else 'as sRGB')} -> reference/{name}")
