#ifndef IC_JPEG_H
#define IC_JPEG_H

#include "ic_common.h"

// JPEG through libjpeg-turbo (filled in by the JPEG codec work).

#endif
