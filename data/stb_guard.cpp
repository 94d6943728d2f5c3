#include "data/stb_guard.h"

namespace wise::data {
std::optional<std::string> check_png_chunk_lengths(const uint8_t* bytes, size_t size) {
  static const uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (size < 8) return std::nullopt;
  for (int i = 0; i < 8; ++i) {
    if (bytes[i] != kSignature[i]) return std::nullopt;
  }
  size_t at = 8;
  while (at + 8 <= size) {  // length (4, big-endian) and type (4), then data and CRC (4)
    const uint32_t length = static_cast<uint32_t>(bytes[at]) << 24 | static_cast<uint32_t>(bytes[at + 1]) << 16 |
                            static_cast<uint32_t>(bytes[at + 2]) << 8 | bytes[at + 3];
    const std::string type(reinterpret_cast<const char*>(bytes + at + 4), 4);
    const size_t left = size - (at + 8);
    if (length > left) {
      bool printable = true;
      for (char c : type) printable = printable && c >= 0x21 && c <= 0x7E;
      return "its " + (printable ? type + " chunk" : std::string("chunk")) + " at byte " + std::to_string(at) +
             " declares " + std::to_string(length) + " bytes, the file has " + std::to_string(left) +
             " left (truncated PNG)";
    }
    if (type == "IEND") return std::nullopt;
    at += 8 + static_cast<size_t>(length) + 4;
  }
  return std::nullopt;
}

}  // namespace wise::data
