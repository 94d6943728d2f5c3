// Selective search's region descriptors and similarities (see region_features.h).
#include "proposals/region_features.h"

#include <algorithm>
#include <cmath>

namespace wise::proposals {
namespace {

// Channel c of the image blurred with a 3-tap-radius Gaussian of sigma 1 (separable,
// clamped borders): the scale of Uijlings' texture derivatives.
std::vector<float> blurred_channel(const float* image, int64_t height, int64_t width, int c) {
  constexpr int radius = 3;
  float kernel[radius + 1];
  float total = 0;
  for (int i = 0; i <= radius; ++i) {
    kernel[i] = std::exp(-0.5f * static_cast<float>(i * i));
    total += i == 0 ? kernel[0] : 2 * kernel[i];
  }
  for (float& weight : kernel) weight /= total;
  std::vector<float> row_pass(static_cast<size_t>(height * width)), out(row_pass.size());
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      float sum = 0;
      for (int i = -radius; i <= radius; ++i)
        sum += kernel[std::abs(i)] * image[(y * width + std::clamp<int64_t>(x + i, 0, width - 1)) * 3 + c];
      row_pass[static_cast<size_t>(y * width + x)] = sum;
    }
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      float sum = 0;
      for (int i = -radius; i <= radius; ++i)
        sum += kernel[std::abs(i)] * row_pass[static_cast<size_t>(std::clamp<int64_t>(y + i, 0, height - 1) * width + x)];
      out[static_cast<size_t>(y * width + x)] = sum;
    }
  return out;
}

float histogram_intersection(const std::vector<float>& a, const std::vector<float>& b) {
  float sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::min(a[i], b[i]);
  return sum;
}

}  // namespace

PixelBins compute_pixel_bins(const float* image, int64_t height, int64_t width) {
  const int64_t pixels = height * width;
  PixelBins bins;
  bins.height = height;
  bins.width = width;
  bins.colour.resize(static_cast<size_t>(pixels * 3));
  for (int64_t i = 0; i < pixels * 3; ++i) {
    const int bin = static_cast<int>(image[i] * kColourBins);
    bins.colour[static_cast<size_t>(i)] = static_cast<uint8_t>(std::clamp(bin, 0, kColourBins - 1));
  }
  // Derivatives along direction theta_o = o * 45 degrees: d = gx cos + gy sin, kept where
  // positive (the opposite direction holds the negative half), so 8 orientations carry
  // both the orientation and the sign of an edge, as Uijlings' 8 Gaussian derivatives do.
  std::vector<float> responses(static_cast<size_t>(pixels * 3 * kTextureOrientations));
  float largest = 0;
  float cosine[kTextureOrientations], sine[kTextureOrientations];
  for (int o = 0; o < kTextureOrientations; ++o) {
    cosine[o] = std::cos(static_cast<float>(o) * 0.78539816f);
    sine[o] = std::sin(static_cast<float>(o) * 0.78539816f);
  }
  for (int c = 0; c < 3; ++c) {
    const std::vector<float> channel = blurred_channel(image, height, width, c);
    for (int64_t y = 0; y < height; ++y) {
      for (int64_t x = 0; x < width; ++x) {
        auto at = [&](int64_t yy, int64_t xx) {
          return channel[static_cast<size_t>(std::clamp<int64_t>(yy, 0, height - 1) * width +
                                             std::clamp<int64_t>(xx, 0, width - 1))];
        };
        const float gx = 0.5f * (at(y, x + 1) - at(y, x - 1));
        const float gy = 0.5f * (at(y + 1, x) - at(y - 1, x));
        for (int o = 0; o < kTextureOrientations; ++o) {
          const float d = std::max(0.0f, gx * cosine[o] + gy * sine[o]);
          responses[static_cast<size_t>(((y * width + x) * 3 + c) * kTextureOrientations + o)] = d;
          largest = std::max(largest, d);
        }
      }
    }
  }
  bins.texture.resize(responses.size());
  const float scale = largest > 0 ? kTextureBins / largest : 0.0f;
  for (size_t i = 0; i < responses.size(); ++i) {
    bins.texture[i] = static_cast<uint8_t>(std::min(kTextureBins - 1, static_cast<int>(responses[i] * scale)));
  }
  return bins;
}

std::vector<RegionDescriptor> describe_regions(const PixelBins& bins, const std::vector<int32_t>& labels,
                                               int32_t count) {
  std::vector<RegionDescriptor> regions(static_cast<size_t>(count));
  for (RegionDescriptor& region : regions) {
    region.colour.assign(kColourFeatures, 0.0f);
    region.texture.assign(kTextureFeatures, 0.0f);
    region.box = {INT32_MAX, INT32_MAX, -1, -1};
  }
  for (int64_t y = 0; y < bins.height; ++y) {
    for (int64_t x = 0; x < bins.width; ++x) {
      const int64_t p = y * bins.width + x;
      RegionDescriptor& region = regions[static_cast<size_t>(labels[static_cast<size_t>(p)])];
      ++region.size;
      region.box = {std::min<int32_t>(region.box[0], static_cast<int32_t>(x)),
                    std::min<int32_t>(region.box[1], static_cast<int32_t>(y)),
                    std::max<int32_t>(region.box[2], static_cast<int32_t>(x)),
                    std::max<int32_t>(region.box[3], static_cast<int32_t>(y))};
      for (int c = 0; c < 3; ++c) {
        region.colour[static_cast<size_t>(c * kColourBins + bins.colour[static_cast<size_t>(p * 3 + c)])] += 1;
        for (int o = 0; o < kTextureOrientations; ++o) {
          const int bin = bins.texture[static_cast<size_t>((p * 3 + c) * kTextureOrientations + o)];
          region.texture[static_cast<size_t>((c * kTextureOrientations + o) * kTextureBins + bin)] += 1;
        }
      }
    }
  }
  for (RegionDescriptor& region : regions) {
    // Each pixel adds 3 colour counts and 24 texture counts: normalise to sum 1.
    const float colour_total = 3.0f * static_cast<float>(region.size);
    const float texture_total = 3.0f * kTextureOrientations * static_cast<float>(region.size);
    for (float& value : region.colour) value /= colour_total;
    for (float& value : region.texture) value /= texture_total;
  }
  return regions;
}

RegionDescriptor merge_descriptors(const RegionDescriptor& a, const RegionDescriptor& b) {
  RegionDescriptor merged;
  merged.size = a.size + b.size;
  merged.box = {std::min(a.box[0], b.box[0]), std::min(a.box[1], b.box[1]), std::max(a.box[2], b.box[2]),
                std::max(a.box[3], b.box[3])};
  const float wa = static_cast<float>(a.size) / static_cast<float>(merged.size), wb = 1.0f - wa;
  merged.colour.resize(a.colour.size());
  merged.texture.resize(a.texture.size());
  for (size_t i = 0; i < a.colour.size(); ++i) merged.colour[i] = wa * a.colour[i] + wb * b.colour[i];
  for (size_t i = 0; i < a.texture.size(); ++i) merged.texture[i] = wa * a.texture[i] + wb * b.texture[i];
  return merged;
}

float region_similarity(const RegionDescriptor& a, const RegionDescriptor& b, unsigned terms, int64_t image_size) {
  const float image = static_cast<float>(image_size);
  float similarity = 0;
  if (terms & kColour) similarity += histogram_intersection(a.colour, b.colour);
  if (terms & kTexture) similarity += histogram_intersection(a.texture, b.texture);
  if (terms & kSize) similarity += 1.0f - static_cast<float>(a.size + b.size) / image;
  if (terms & kFill) {
    const int64_t box_area = static_cast<int64_t>(std::max(a.box[2], b.box[2]) - std::min(a.box[0], b.box[0]) + 1) *
                             (std::max(a.box[3], b.box[3]) - std::min(a.box[1], b.box[1]) + 1);
    similarity += 1.0f - static_cast<float>(box_area - a.size - b.size) / image;
  }
  return similarity;
}

}  // namespace wise::proposals
