// A check stb_image lacks, run on PNG bytes before stb sees them (data/image_io.cpp).
// (JPEG no longer goes through stb: data/jpeg_codec.h.)
//
// PNG: stb grows its compressed-data buffer to each IDAT chunk's declared length before
// reading the chunk, so a 100-byte file declaring a 2 GB chunk allocates 2 GB (found by
// fuzz_images as an out-of-memory). A chunk longer than the bytes left in the file is a
// truncated file: refused first, in memory, where stb would only find out after allocating.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace wise::data {

// For a PNG (anything else passes): the first chunk whose declared length runs past the
// end of `bytes`, as "its IDAT chunk at byte 33 declares 2147483647 bytes, the file has
// 60 left"; nullopt when every chunk up to IEND (or the end) fits.
std::optional<std::string> check_png_chunk_lengths(const uint8_t* bytes, size_t size);

}  // namespace wise::data
