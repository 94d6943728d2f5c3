#include "data/stb_guard.h"

namespace wise::data {
namespace {

bool is_frame_marker(uint8_t marker) {  // SOF0-3, 5-7, 9-11, 13-15 (C4 DHT, C8 JPG, CC DAC are not)
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Markers that stand alone, without a length: TEM, RST0-7, SOI, and 0x00 (a stuffed 0xFF
// inside entropy-coded data).
bool has_no_length(uint8_t marker) {
  return marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8);
}

// The tables of the DHT segment whose payload is [begin, end): class/id byte, 16 counts,
// values. stb starts a table wherever the declared length has bytes left and then reads
// its 17 bytes whatever the length says, past the segment's end and past the file's (as
// zeros), and builds what it read: so the counts here are read the same way.
std::optional<std::string> check_dht_payload(const uint8_t* bytes, size_t size, size_t begin, size_t end) {
  size_t at = begin;
  while (at < end) {
    int codes = 0;
    for (size_t i = at + 1; i < at + 17 && i < size; ++i) codes += bytes[i];
    if (codes > 256) {
      return "its Huffman table at byte " + std::to_string(at) + " declares " + std::to_string(codes) +
             " codes, more than a JPEG table holds (256)";
    }
    at += 17 + static_cast<size_t>(codes);
  }
  return std::nullopt;
}

}  // namespace

JpegGuardResult check_jpeg_huffman_tables(const uint8_t* bytes, size_t size, bool stop_at_frame) {
  JpegGuardResult result;
  // stb takes any run of 0xFF fill bytes before a marker, the first SOI included.
  size_t at = 0;
  while (at < size && bytes[at] == 0xFF) ++at;
  if (at == 0 || at >= size || bytes[at] != 0xD8) return result;
  ++at;
  while (true) {
    while (at < size && bytes[at] != 0xFF) ++at;  // entropy-coded data after a scan
    while (at < size && bytes[at] == 0xFF) ++at;  // fill bytes
    if (at >= size) return result;
    const uint8_t marker = bytes[at++];
    if (has_no_length(marker)) continue;
    if (marker == 0xD9) return result;  // EOI
    if (at + 2 > size) return result;   // truncated: stb reports it
    const size_t length = static_cast<size_t>(bytes[at]) << 8 | bytes[at + 1];
    if (length < 2) return result;
    if (marker == 0xC4) {
      result.problem = check_dht_payload(bytes, size, at + 2, at + length);
      if (result.problem) return result;
    }
    if (is_frame_marker(marker)) {
      result.reached_frame = true;
      if (stop_at_frame) return result;
    }
    at += length;
  }
}

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
