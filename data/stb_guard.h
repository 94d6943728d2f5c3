// Checks stb_image lacks, run on image bytes before stb sees them (data/image_io.cpp).
//
// JPEG: Debian's stb_image (libstb-dev 0.0~git20220908) builds each Huffman table of a JPEG's
// DHT segment without checking that its 16 code counts sum to at most 256: a crafted
// table of up to 4,080 codes writes past stbi__huffman's size[257] and values[256] into
// the decoder's heap object (found by tests/fuzz/fuzz_images, UBSan "index 257 out of
// bounds" in stbi__build_huffman). Newer upstream stb refuses such a table; until Debian
// ships it, wise walks the JPEG's segments itself and refuses the file first.
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

struct JpegGuardResult {
  std::optional<std::string> problem;  // why stb must not see these bytes; nullopt: fine
  bool reached_frame = false;          // a frame header (SOFn) was seen
};

// Walks the marker segments of `bytes` as stb does (anything not starting with a JPEG SOI,
// after optional 0xFF fill bytes, passes) and
// reports the first DHT table declaring more than 256 codes. stop_at_frame: stop at the
// first frame header, as far as stb's header-only read (stbi_info) goes; otherwise every
// segment, those between a progressive JPEG's scans included.
JpegGuardResult check_jpeg_huffman_tables(const uint8_t* bytes, size_t size, bool stop_at_frame);

// For a PNG (anything else passes): the first chunk whose declared length runs past the
// end of `bytes`, as "its IDAT chunk at byte 33 declares 2147483647 bytes, the file has
// 60 left"; nullopt when every chunk up to IEND (or the end) fits.
std::optional<std::string> check_png_chunk_lengths(const uint8_t* bytes, size_t size);

}  // namespace wise::data
