// The one translation unit that compiles stb_image (Debian's libstb-dev ships it
// header-only; its writer is data/stb_image_write_impl.cpp). data/image_io.cpp is its
// only user.
//
// STBI_FAILURE_USERMSG makes stbi_failure_reason() return readable reasons ("bad png
// sig", "Corrupt JPEG") instead of terse codes; stb keeps the reason thread-local, so
// loaders on several threads do not see each other's errors. stb is third-party C
// written for many compilers; its warnings are not ours to fix, and we build with
// -Werror, so they are silenced here and only here.
#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
// stb's assert()s (only without NDEBUG) check its own invariants, and one in its JPEG
// decoder fired on a corrupt file (tests/fuzz/fuzz_images): a reader must not abort the
// process on a bad file, in a Debug build either, so they are off as in every Release
// build; memory safety does not rest on them (the fuzz target runs under AddressSanitizer).
#define STBI_ASSERT(condition) ((void)0)
// PNG alone: JPEG goes through libjpeg-turbo (data/jpeg_codec.h), whose decoder is the
// one fuzzed upstream; fewer decoders here, less attack surface for bad files.
#define STBI_ONLY_PNG

#include "data/stb_warnings_off.h"  // pushes; popped below
#include <stb_image.h>
#pragma GCC diagnostic pop
