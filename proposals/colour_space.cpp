// Colour-space conversions (see colour_space.h).
#include "proposals/colour_space.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "kernels/check.h"

namespace wise::proposals {

const char* colour_space_name(ColourSpace space) {
  switch (space) {
    case ColourSpace::rgb: return "rgb";
    case ColourSpace::hsv: return "hsv";
    case ColourSpace::lab: return "lab";
  }
  return "?";
}

ColourSpace parse_colour_space(const std::string& text) {
  if (text == "rgb") return ColourSpace::rgb;
  if (text == "hsv") return ColourSpace::hsv;
  if (text == "lab") return ColourSpace::lab;
  throw std::invalid_argument("colour space \"" + text + "\": expected rgb, hsv or lab");
}

namespace {

// sRGB's transfer function undone: the linear light CIE XYZ is defined on.
float srgb_to_linear(float c) { return c <= 0.04045f ? c / 12.92f : std::pow((c + 0.055f) / 1.055f, 2.4f); }

// CIE's f(t) of L*a*b*, with the linear segment below (6/29)^3.
float lab_f(float t) {
  constexpr float delta = 6.0f / 29.0f;
  return t > delta * delta * delta ? std::cbrt(t) : t / (3.0f * delta * delta) + 4.0f / 29.0f;
}

void rgb_to_lab(float r, float g, float b, float* out) {
  const float R = srgb_to_linear(r), G = srgb_to_linear(g), B = srgb_to_linear(b);
  // sRGB -> XYZ (D65), each row divided by the white point's X, Y, Z.
  const float x = (0.4124f * R + 0.3576f * G + 0.1805f * B) / 0.95047f;
  const float y = 0.2126f * R + 0.7152f * G + 0.0722f * B;
  const float z = (0.0193f * R + 0.1192f * G + 0.9505f * B) / 1.08883f;
  const float fx = lab_f(x), fy = lab_f(y), fz = lab_f(z);
  out[0] = (116.0f * fy - 16.0f) / 100.0f;
  out[1] = (500.0f * (fx - fy) + 128.0f) / 255.0f;
  out[2] = (200.0f * (fy - fz) + 128.0f) / 255.0f;
}

void rgb_to_hsv(float r, float g, float b, float* out) {
  const float high = std::max({r, g, b}), low = std::min({r, g, b}), range = high - low;
  float hue = 0;  // undefined for grays; 0 by convention
  if (range > 0) {
    if (high == r) hue = (g - b) / range;
    else if (high == g) hue = 2.0f + (b - r) / range;
    else hue = 4.0f + (r - g) / range;
    hue /= 6.0f;
    if (hue < 0) hue += 1.0f;
  }
  out[0] = hue;
  out[1] = high > 0 ? range / high : 0.0f;
  out[2] = high;
}

}  // namespace

std::vector<float> convert_colour_space(const data::Image& image, ColourSpace space) {
  WISE_CHECK(image.channels == 3, "convert_colour_space: expected an RGB image, got ", image.channels,
             " channels");
  const int64_t pixels = image.height * image.width;
  std::vector<float> out(static_cast<size_t>(pixels * 3));
  for (int64_t p = 0; p < pixels; ++p) {
    const uint8_t* rgb = image.pixels.data() + p * 3;
    const float r = rgb[0] / 255.0f, g = rgb[1] / 255.0f, b = rgb[2] / 255.0f;
    float* o = out.data() + p * 3;
    switch (space) {
      case ColourSpace::rgb: o[0] = r, o[1] = g, o[2] = b; break;
      case ColourSpace::hsv: rgb_to_hsv(r, g, b, o); break;
      case ColourSpace::lab: rgb_to_lab(r, g, b, o); break;
    }
  }
  return out;
}

}  // namespace wise::proposals
