// Little CMS 2 (Debian: liblcms2-dev), used only by the CColour shim.
#include <lcms2.h>
