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
// stb asserts (assert(), so only without NDEBUG) that a JPEG's Huffman codes decode
// consistently, which a corrupt file breaks (tests/fuzz/fuzz_images found it): a reader
// must not abort the process on a bad file, in a Debug build either. Off, a bad code gives
// garbage pixels, as in every Release build; memory safety does not rest on it (the fuzz
// target runs under AddressSanitizer).
#define STBI_ASSERT(condition) ((void)0)
// Only the formats wise reads; fewer decoders, less attack surface for bad files.
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG

#include "data/stb_warnings_off.h"  // pushes; popped below
#include <stb_image.h>
#pragma GCC diagnostic pop
