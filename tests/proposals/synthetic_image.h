// A synthetic image with known objects for the proposals tests: a textured background
// (an 8-pixel checkerboard of two grays plus deterministic pixel noise) and filled shapes
// of distinct colours -- a disc, a rectangle, a triangle and a ring -- whose exact masks
// are returned with it. Pixel centres decide membership, no antialiasing, so the masks
// are exactly the painted pixels.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "data/image.h"
#include "data/rle.h"

namespace wise::testing {

struct SyntheticScene {
  data::Image image;
  std::vector<data::Rle> objects;
};

inline SyntheticScene synthetic_scene(int64_t height = 96, int64_t width = 96) {
  SyntheticScene scene;
  data::Image& image = scene.image;
  image.height = height;
  image.width = width;
  image.channels = 3;
  image.pixels.resize(static_cast<size_t>(height * width * 3));
  uint32_t state = 12345;  // an LCG: the noise is the same on every run and machine
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      const int base = ((y / 8 + x / 8) % 2) ? 150 : 110;
      for (int c = 0; c < 3; ++c) {
        state = state * 1664525u + 1013904223u;
        const int noise = static_cast<int>((state >> 24) % 13) - 6;
        image.row(y)[x * 3 + c] = static_cast<uint8_t>(base + noise);
      }
    }
  struct Shape {
    uint8_t colour[3];
    bool (*inside)(double y, double x);
  };
  const Shape shapes[] = {
      {{220, 40, 40}, [](double y, double x) { return (y - 24) * (y - 24) + (x - 24) * (x - 24) <= 14.0 * 14.0; }},
      {{40, 200, 60}, [](double y, double x) { return y >= 12 && y <= 40 && x >= 52 && x <= 86; }},
      {{50, 60, 220}, [](double y, double x) { return y <= 86 && y >= 56 && std::fabs(x - 26) <= (y - 56) * 0.7; }},
      {{240, 220, 40},
       [](double y, double x) {
         const double r2 = (y - 70) * (y - 70) + (x - 70) * (x - 70);
         return r2 <= 16.0 * 16.0 && r2 >= 7.0 * 7.0;
       }},
  };
  for (const Shape& shape : shapes) {
    std::vector<uint8_t> mask(static_cast<size_t>(height * width), 0);
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x) {
        if (!shape.inside(static_cast<double>(y) + 0.5, static_cast<double>(x) + 0.5)) continue;
        mask[static_cast<size_t>(y * width + x)] = 1;
        for (int c = 0; c < 3; ++c) image.row(y)[x * 3 + c] = shape.colour[c];
      }
    scene.objects.push_back(data::rle_encode(mask, height, width));
  }
  return scene;
}

}  // namespace wise::testing
