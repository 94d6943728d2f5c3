// The one translation unit that compiles stb_image_write (header-only in Debian's
// libstb-dev); data/image_io.cpp is its only user, for PNG: JPEG is written by
// libjpeg-turbo (data/jpeg_codec.h), which also retired the one sanitizer exception this
// file had (stb's JPEG writer shifts negative ints left). Its warnings are silenced here
// and only here, as for the reader.
#define STB_IMAGE_WRITE_IMPLEMENTATION

#include "data/stb_warnings_off.h"  // pushes; popped below
#include <stb_image_write.h>
#pragma GCC diagnostic pop
