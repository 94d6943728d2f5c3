// A PNG whose header claims a size, with no pixel data behind it: what a hostile or
// corrupt file of a few dozen bytes can ask a decoder to allocate. Written chunk by
// chunk here (CRC-32 included, which libpng checks), independent of any PNG writer.
#pragma once

#include <cstdint>
#include <string>

namespace wise::testing {

// PNG's CRC-32 (ISO 3309, reflected polynomial 0xEDB88320) over a chunk's type and data.
inline uint32_t png_crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return crc ^ 0xFFFFFFFFu;
}

inline std::string big_endian32(uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16), static_cast<char>(value >> 8),
          static_cast<char>(value)};
}

inline std::string png_chunk(const std::string& type, const std::string& data) {
  const std::string body = type + data;
  return big_endian32(static_cast<uint32_t>(data.size())) + body + big_endian32(png_crc32(body));
}

// Signature, IHDR (8-bit samples, `colour_type` 2 RGB or 3 palette), a one-entry PLTE
// for palettes, a two-byte IDAT (a zlib header, nothing after it) and IEND.
inline std::string png_claiming(uint32_t width, uint32_t height, uint8_t colour_type) {
  std::string ihdr = big_endian32(width) + big_endian32(height);
  ihdr += std::string{8, static_cast<char>(colour_type), 0, 0, 0};  // depth, type, deflate, filter, no interlace
  std::string png = "\x89PNG\r\n\x1a\n" + png_chunk("IHDR", ihdr);
  if (colour_type == 3) png += png_chunk("PLTE", std::string(3, '\0'));
  png += png_chunk("IDAT", "\x78\x9c") + png_chunk("IEND", "");
  return png;
}

}  // namespace wise::testing
