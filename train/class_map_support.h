// How much of a mask its class's response map supports: PRM's class-aware idea (a
// proposal spilling onto background, where the class map is low, is a worse instance
// than a tight one) read from the upsampled class maps train_prm already has, with no
// peak backpropagation. Used by the pseudo-mask step (train/pseudo_mask_step.h) to score
// pseudo masks and, with the `class_map` weighting, to draw them.
//
//   support(p)    = clamp(M_up^k(cell(p)) / max M_up^k, 0, 1) at image pixel p (0 everywhere
//                   when max M_up^k <= 0); cell(p) is the up-grid cell nearest to p, the
//                   inverse of train/peak_rule.h's peak_to_pixel through the loader's resize
//   support(mask) = the mean of support(p) over the mask's pixels (0 for an empty mask)
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "data/rle.h"
#include "data/transforms.h"
#include "nn/tensor.h"

namespace wise {

// support(p) of class k of image n of `maps` (N, K, h f, w f) on the CPU, at every pixel
// of the image's original (height, width), row-major. (map_height, map_width) is the
// class map's (h, w), `stride` its stride.
std::vector<float> class_map_support(const Tensor& maps, int64_t n, int64_t k, int64_t map_height, int64_t map_width,
                                     const data::ImageGeometry& geometry, int64_t stride);

// support(mask) for one image's masks, each class's support image made once, as
// column-major prefix sums so that a mask costs one step per RLE run.
class MaskSupport {
 public:
  // The image n of an inference batch: its upsampled maps (N, K, h f, w f) on the CPU, the
  // class maps' (h, w) and stride, and the loader's geometry.
  MaskSupport(const Tensor& maps, int64_t n, int64_t map_height, int64_t map_width,
              const data::ImageGeometry& geometry, int64_t stride);

  // support(mask) of class index k (0 <= k < K); the mask must have the image's size.
  float of(int64_t k, const data::Rle& mask);

 private:
  const Tensor& maps_;
  int64_t n_, map_height_, map_width_, stride_;
  data::ImageGeometry geometry_;
  std::map<int64_t, std::vector<double>> prefix_;  // by class: prefix[i] = sum of the first i pixels
};

}  // namespace wise
