// What selective search measures of a region to decide which neighbours to merge first
// (Uijlings et al. 2013, Sec. 3.2), and the per-pixel bins those measures count.
//
//   s_colour  = sum_k min(c_i^k, c_j^k)   colour histograms, 25 bins per channel
//   s_texture = sum_k min(t_i^k, t_j^k)   SIFT-like texture histograms: Gaussian
//               derivatives (sigma 1) in 8 orientations per channel, 10 bins each
//   s_size    = 1 - (|r_i| + |r_j|) / |image|          small regions merge early, so the
//               hierarchy grows everywhere at once instead of one region eating the image
//   s_fill    = 1 - (|BB_ij| - |r_i| - |r_j|) / |image|  regions that fill each other's
//               holes merge early
// Each histogram is normalised to sum 1 over all its bins, so every term is in [0, 1].
// The merged region's histograms are the size-weighted means of its parts' (Eq. 3), so
// no pixel is revisited during grouping.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace wise::proposals {

constexpr int kColourBins = 25;               // per channel
constexpr int kTextureOrientations = 8;
constexpr int kTextureBins = 10;              // per orientation and channel
constexpr int kColourFeatures = 3 * kColourBins;
constexpr int kTextureFeatures = 3 * kTextureOrientations * kTextureBins;

// Which terms a strategy sums (Uijlings' "C+T+S+F", "T+S+F", ...).
enum SimilarityTerm : unsigned { kColour = 1, kTexture = 2, kSize = 4, kFill = 8 };

// The bins every pixel falls into, computed once per image and colour space.
struct PixelBins {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<uint8_t> colour;   // (H W, 3): bin of each channel, 0 .. kColourBins - 1
  std::vector<uint8_t> texture;  // (H W, 3, 8): bin of each channel's response per orientation
};

// image: (H, W, 3) floats in [0, 1] (colour_space.h). Texture responses are the
// half-rectified derivatives of each channel (blurred with sigma 1) along 8 directions
// 45 degrees apart, binned linearly up to the image's largest response.
PixelBins compute_pixel_bins(const float* image, int64_t height, int64_t width);

struct RegionDescriptor {
  int64_t size = 0;
  std::array<int32_t, 4> box{};  // x1, y1, x2, y2, inclusive
  std::vector<float> colour;     // kColourFeatures, sums to 1
  std::vector<float> texture;    // kTextureFeatures, sums to 1
};

// One descriptor per label of `labels` (H W, 0 .. count - 1).
std::vector<RegionDescriptor> describe_regions(const PixelBins& bins, const std::vector<int32_t>& labels,
                                               int32_t count);

// Uijlings Eq. 3 (sizes and boxes combine exactly, histograms by size-weighted mean).
RegionDescriptor merge_descriptors(const RegionDescriptor& a, const RegionDescriptor& b);

// The sum of the terms in `terms` (a SimilarityTerm mask), in [0, number of terms].
float region_similarity(const RegionDescriptor& a, const RegionDescriptor& b, unsigned terms, int64_t image_size);

}  // namespace wise::proposals
