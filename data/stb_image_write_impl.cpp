// The one translation unit that compiles stb_image_write (header-only in Debian's
// libstb-dev); data/image_io.cpp is its only user. Apart from stb_image_impl.cpp for one
// reason: its JPEG writer shifts negative ints left (stbiw__jpg_writeBits, `bs[0] << (24 -
// bitCnt)` with a negative code), well defined in C++20 and on every compiler we use but
// undefined in C++17, so the sanitizer build (WISE_SANITIZE) turns off that one check,
// shift-base, for this file only (data/CMakeLists.txt) and keeps it for the reader and
// our own code. Its warnings are silenced here and only here, as for the reader.
#define STB_IMAGE_WRITE_IMPLEMENTATION

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wpedantic"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#include <stb_image_write.h>
#pragma GCC diagnostic pop
