#include "train/class_map_support.h"

#include <algorithm>
#include <cmath>

#include "kernels/check.h"

namespace wise {

std::vector<float> class_map_support(const Tensor& maps, int64_t n, int64_t k, int64_t map_height, int64_t map_width,
                                     const data::ImageGeometry& geometry, int64_t stride) {
  const int64_t up_h = maps.size(2), up_w = maps.size(3), plane = up_h * up_w;
  const float* map = maps.data<float>() + (n * maps.size(1) + k) * plane;
  const float maximum = *std::max_element(map, map + plane);
  const int64_t height = geometry.original_height, width = geometry.original_width;
  std::vector<float> support(static_cast<size_t>(height * width), 0.0f);
  if (!(maximum > 0.0f)) return support;
  // Image pixel -> network input pixel -> class map cell -> up-grid cell (align corners).
  auto to_up = [&](int64_t pixel, float scale, int64_t size, int64_t up_size) {
    const double cell = static_cast<double>(pixel) * scale / static_cast<double>(stride);
    const double up = size > 1 && up_size > size
                          ? cell * static_cast<double>(up_size - 1) / static_cast<double>(size - 1)
                          : cell * static_cast<double>(up_size) / static_cast<double>(size);
    return std::clamp<int64_t>(static_cast<int64_t>(std::lround(up)), 0, up_size - 1);
  };
  std::vector<int64_t> columns(static_cast<size_t>(width));
  for (int64_t x = 0; x < width; ++x) columns[static_cast<size_t>(x)] = to_up(x, geometry.scale_x(), map_width, up_w);
  for (int64_t y = 0; y < height; ++y) {
    const float* row = map + to_up(y, geometry.scale_y(), map_height, up_h) * up_w;
    float* out = support.data() + y * width;
    for (int64_t x = 0; x < width; ++x) out[x] = std::clamp(row[columns[static_cast<size_t>(x)]] / maximum, 0.0f, 1.0f);
  }
  return support;
}

MaskSupport::MaskSupport(const Tensor& maps, int64_t n, int64_t map_height, int64_t map_width,
                         const data::ImageGeometry& geometry, int64_t stride)
    : maps_(maps), n_(n), map_height_(map_height), map_width_(map_width), stride_(stride), geometry_(geometry) {}

float MaskSupport::of(int64_t k, const data::Rle& mask) {
  const int64_t height = geometry_.original_height, width = geometry_.original_width;
  WISE_CHECK(mask.height == height && mask.width == width, "MaskSupport: a ", mask.height, "x", mask.width,
             " mask on a ", height, "x", width, " image");
  auto found = prefix_.find(k);
  if (found == prefix_.end()) {
    const std::vector<float> support = class_map_support(maps_, n_, k, map_height_, map_width_, geometry_, stride_);
    std::vector<double> prefix(static_cast<size_t>(height * width) + 1, 0.0);
    size_t i = 0;
    for (int64_t x = 0; x < width; ++x) {  // column-major, as RLE runs are
      for (int64_t y = 0; y < height; ++y, ++i) prefix[i + 1] = prefix[i] + support[static_cast<size_t>(y * width + x)];
    }
    found = prefix_.emplace(k, std::move(prefix)).first;
  }
  const std::vector<double>& prefix = found->second;
  const int64_t pixels = height * width;
  double sum = 0.0;
  int64_t start = 0, area = 0;
  for (size_t run = 0; run < mask.counts.size() && start < pixels; ++run) {
    const int64_t end = std::min(pixels, start + mask.counts[run]);
    if (run % 2 == 1) {  // runs alternate background, foreground, starting with background
      sum += prefix[static_cast<size_t>(end)] - prefix[static_cast<size_t>(start)];
      area += end - start;
    }
    start = end;
  }
  return area > 0 ? static_cast<float>(sum / static_cast<double>(area)) : 0.0f;
}

}  // namespace wise
