// The one translation unit that compiles stb_image_write (header-only in Debian's
// libstb-dev); data/image_io.cpp is its only user. Apart from stb_image_impl.cpp for one
// reason: its JPEG writer shifts negative ints left (stbiw__jpg_writeBits, `bs[0] << (24 -
// bitCnt)` with a negative code), well defined in C++20 and on every compiler we use but
// undefined in C++17, so the sanitizer build (WISE_SANITIZE) turns off that one check,
// shift-base, for this file only (data/CMakeLists.txt) and keeps it for the reader and
// our own code. Its warnings are silenced here and only here, as for the reader.
#define STB_IMAGE_WRITE_IMPLEMENTATION

#include "data/stb_warnings_off.h"  // pushes; popped below
#include <stb_image_write.h>
#pragma GCC diagnostic pop
