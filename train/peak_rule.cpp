#include "train/peak_rule.h"

#include <algorithm>
#include <cmath>

namespace wise {

std::vector<PixelPeak> image_peaks(const PrmInference& inference, const Tensor& maps, int64_t n,
                                   const std::vector<bool>& present, const std::vector<int64_t>& category_ids,
                                   const data::ImageGeometry& geometry, const Shape& images, const PeakRule& rule,
                                   int64_t stride) {
  const int64_t K = maps.size(1), up_h = maps.size(2), up_w = maps.size(3), plane = up_h * up_w;
  const int64_t h = inference.class_maps.size(2), w = inference.class_maps.size(3);
  const float* map_values = maps.data<float>() + n * K * plane;
  const int64_t* peaks = inference.peaks.data<int64_t>();
  const float* values = inference.peak_values.data<float>();
  // Whether another present class's map is higher at (y, x).
  auto outscored = [&](int64_t k, int64_t y, int64_t x) {
    const float value = map_values[k * plane + y * up_w + x];
    for (int64_t j = 0; j < K; ++j) {
      if (j != k && present[static_cast<size_t>(j)] && map_values[j * plane + y * up_w + x] > value) return true;
    }
    return false;
  };
  std::vector<PixelPeak> counted;
  for (int64_t k = 0; k < K; ++k) {
    if (!present[static_cast<size_t>(k)]) continue;
    const float* map = map_values + k * plane;
    const float maximum = *std::max_element(map, map + plane);
    // fraction x a negative maximum would exceed it: such a map keeps its maximum.
    const float threshold = maximum > 0.0f ? rule.fraction * maximum : maximum;
    for (int64_t p = 0; p < inference.peaks.size(0); ++p) {
      const int64_t* peak = peaks + 4 * p;
      if (peak[0] != n || peak[1] != k || values[p] < threshold) continue;
      if (rule.dominant && outscored(k, peak[2], peak[3])) continue;
      PixelPeak pixel = peak_to_pixel(category_ids[static_cast<size_t>(k)], peak[2], peak[3], h, w,
                                      static_cast<int>(up_h / h), stride, images[2], images[3]);
      // Back from the (resized) network input to the original image.
      pixel.y = std::min<int64_t>(geometry.original_height - 1,
                                  static_cast<int64_t>(static_cast<float>(pixel.y) / geometry.scale_y()));
      pixel.x = std::min<int64_t>(geometry.original_width - 1,
                                  static_cast<int64_t>(static_cast<float>(pixel.x) / geometry.scale_x()));
      counted.push_back(pixel);
    }
  }
  return counted;
}

PixelPeak peak_to_pixel(int64_t category_id, int64_t y, int64_t x, int64_t map_height, int64_t map_width,
                        int factor, int64_t stride, int64_t height, int64_t width) {
  // align_corners: up-grid row y is map row y (h - 1) / (h f - 1).
  auto to_pixel = [&](int64_t up, int64_t size, int64_t limit) {
    const double cell = size > 1 && factor > 1 ? static_cast<double>(up) * static_cast<double>(size - 1) /
                                                     static_cast<double>(size * factor - 1)
                                               : static_cast<double>(up) / factor;
    const double pixel = static_cast<double>(stride) * cell;
    return std::clamp<int64_t>(static_cast<int64_t>(std::lround(pixel)), 0, limit - 1);
  };
  return PixelPeak{category_id, to_pixel(y, map_height, height), to_pixel(x, map_width, width)};
}

}  // namespace wise
