#include "data/heatmap.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>

namespace wise::data {

Color heat_color(double t) {
  static constexpr std::array<std::array<double, 3>, 5> anchors{{
      {0, 0, 4}, {87, 16, 110}, {188, 55, 84}, {249, 142, 9}, {252, 255, 164}}};
  t = std::isnan(t) ? 0.0 : std::clamp(t, 0.0, 1.0);
  const double position = t * static_cast<double>(anchors.size() - 1);
  const size_t low = std::min(static_cast<size_t>(position), anchors.size() - 2);
  const double f = position - static_cast<double>(low);
  auto channel = [&](int c) {
    return static_cast<uint8_t>(std::lround((1 - f) * anchors[low][c] + f * anchors[low + 1][c]));
  };
  return {channel(0), channel(1), channel(2)};
}

Image heat_overlay(const Image& image, const float* values, double low, double high, double alpha) {
  if (image.channels != 1 && image.channels != 3) {
    throw std::invalid_argument("heat_overlay: image has " + std::to_string(image.channels) +
                                " channels, expected 1 (gray) or 3 (RGB)");
  }
  if (!(alpha >= 0 && alpha <= 1)) throw std::invalid_argument("heat_overlay: alpha must be in [0, 1]");
  Image out{image.height, image.width, 3, std::vector<uint8_t>(static_cast<size_t>(image.height * image.width * 3))};
  const double range = high - low;
  for (int64_t p = 0; p < image.height * image.width; ++p) {
    const double t = range > 0 ? (static_cast<double>(values[p]) - low) / range : 0.0;
    const Color color = heat_color(t);
    const uint8_t* source = image.pixels.data() + p * image.channels;
    const std::array<uint8_t, 3> base{source[0], source[image.channels == 3 ? 1 : 0], source[image.channels == 3 ? 2 : 0]};
    const std::array<uint8_t, 3> heat{color.red, color.green, color.blue};
    for (int c = 0; c < 3; ++c) {
      out.pixels[static_cast<size_t>(p * 3 + c)] =
          static_cast<uint8_t>(std::lround((1 - alpha) * base[static_cast<size_t>(c)] + alpha * heat[static_cast<size_t>(c)]));
    }
  }
  return out;
}

}  // namespace wise::data
