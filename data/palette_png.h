// Palette ("indexed colour") PNGs, as PASCAL VOC stores its SegmentationObject and
// SegmentationClass label maps: each pixel is an index into a 256-entry palette
// (0 background, 1..N objects or classes, 255 the "void" boundary band), read and
// written with libpng so the indices come back exactly (stb_image would expand
// them to RGB).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace wise::data {

struct IndexedImage {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<uint8_t> indices;                   // height * width, row-major
  std::vector<std::array<uint8_t, 3>> palette;    // RGB per index (as stored in the file)
};

// PASCAL VOC's 256-colour palette (the bit-interleaving colormap of the devkit).
std::vector<std::array<uint8_t, 3>> voc_palette();

// Throws ImageError (data/image_io.h) naming the file when it is missing, corrupt, or
// not a palette PNG (a gray 8-bit PNG is accepted and read as indices).
// A label map larger than kMaxImagePixels (data/image_io.h) is refused from its header.
IndexedImage read_palette_png(const std::string& path);
// The same from bytes already in memory; `name` is used in error messages.
IndexedImage decode_palette_png(const uint8_t* bytes, size_t size, const std::string& name);
// Written atomically (temporary file + rename); an empty palette writes voc_palette().
void write_palette_png(const IndexedImage& image, const std::string& path);

}  // namespace wise::data
