#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

// The C side of the codecs: small shims that own every setjmp/longjmp of
// libpng and libjpeg. Swift calls these and never sees a longjmp.
#include "ic_common.h"
#include "ic_png.h"
#include "ic_jpeg.h"

#endif
