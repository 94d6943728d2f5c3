// JPEG through libjpeg-turbo (Debian's libjpeg62-turbo): decoding, the header-only read
// and encoding. data/image_io.h is the interface; this is its JPEG half (PNG goes
// through stb and libpng).
//
// Why libjpeg-turbo and not stb_image: stb's JPEG decoder, fuzzed here, wrote past its
// Huffman tables on crafted files and read out of their bounds on others
// (tests/fuzz/findings, docs/reliability.md); libjpeg-turbo is the decoder PIL and
// torchvision use, fuzzed upstream (OSS-Fuzz), and checks every table it builds.
//
// A decode is strict where pixels would be lost: a truncated file ("Premature end of JPEG
// file") or corrupt entropy-coded data is an ImageError naming the file and libjpeg's
// reason, never an image padded with gray. Harmless warnings (extraneous bytes between
// markers, an unknown JFIF revision) are ignored, as PIL ignores them. A hostile file
// cannot make the decoder allocate past kMaxImagePixels (checked from the header) or
// spin through more than kMaxJpegScans progressive scans (libjpeg-turbo's own TurboJPEG
// limit for untrusted input).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "data/image_io.h"

namespace wise::data {

inline constexpr int kMaxJpegScans = 500;

// True when `bytes` start with a JPEG's SOI marker and the next marker's 0xFF.
bool looks_like_jpeg(const uint8_t* bytes, size_t size);

// channels: as data/image_io.h's decode_image (0 keeps the file's: 1 for a gray JPEG, 3
// for colour, CMYK included).
Image decode_jpeg(const uint8_t* bytes, size_t size, const std::string& name, int channels);

// Reads the markers up to the first scan from `file` (positioned at the start).
ImageHeader read_jpeg_header(std::FILE* file, const std::string& name);

// Baseline JPEG, 4:2:0 chroma, `quality` 1..100; alpha is dropped.
std::vector<uint8_t> encode_jpeg(const Image& image, int quality, const std::string& name);

}  // namespace wise::data
