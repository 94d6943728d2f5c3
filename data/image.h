// Images in memory: 8-bit pixels, row-major, channels interleaved (H, W, C).
//
// Loading and saving go through stb_image / stb_image_write (Debian's libstb-dev);
// errors name the file and stb's reason.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace wise::data {

struct Image {
  int64_t height = 0;
  int64_t width = 0;
  int64_t channels = 0;         // 1 (gray), 3 (RGB) or 4 (RGBA)
  std::vector<uint8_t> pixels;  // height * width * channels, row-major, interleaved

  uint8_t* row(int64_t y) { return pixels.data() + y * width * channels; }
  const uint8_t* row(int64_t y) const { return pixels.data() + y * width * channels; }
};

}  // namespace wise::data
