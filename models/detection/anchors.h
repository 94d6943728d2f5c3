// Anchor generation on tensors, as torchvision 0.14's AnchorGenerator
// (kernels/anchors.h holds the arithmetic and says what it computes).
//
// Every image of a batch is padded to one size (torchvision's ImageList), so the anchors
// are the same for each image: one (sum over levels of H * W * A, 4) float32 tensor,
// level after level, is what torchvision returns per image. No backward: anchors are
// constants.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/tensor.h"

namespace wise {

// Per FPN level: the anchor sizes and aspect ratios (height / width). The defaults are
// torchvision's Mask R-CNN FPN: sizes ((32,), (64,), (128,), (256,), (512,)) and
// aspect_ratios ((0.5, 1.0, 2.0),) * 5.
struct AnchorGeneratorOptions {
  std::vector<std::vector<float>> sizes = {{32.0f}, {64.0f}, {128.0f}, {256.0f}, {512.0f}};
  std::vector<std::vector<float>> aspect_ratios = {
      {0.5f, 1.0f, 2.0f}, {0.5f, 1.0f, 2.0f}, {0.5f, 1.0f, 2.0f}, {0.5f, 1.0f, 2.0f},
      {0.5f, 1.0f, 2.0f}};
};

struct FeatureMapSize {
  int64_t height = 0;
  int64_t width = 0;
};

// A = sizes[level].size() * aspect_ratios[level].size(): anchors per location.
int64_t num_anchors_per_location(const AnchorGeneratorOptions& options, int64_t level);

// H * W * A per level (torchvision's num_anchors_per_level).
std::vector<int64_t> num_anchors_per_level(const AnchorGeneratorOptions& options,
                                           const std::vector<FeatureMapSize>& feature_maps);

// cell (A, 4) = AnchorGenerator.generate_anchors(sizes, aspect_ratios): ratio-major,
// size-minor, rounded half to even.
void generate_cell_anchors(const std::vector<float>& sizes, const std::vector<float>& aspect_ratios,
                           Device device, Tensor& cell);

// anchors (sum H * W * A, 4) for an image (padded batch) of image_height x image_width
// and one feature map per level; strides image_size // feature_size (integer division).
void generate_anchors(int64_t image_height, int64_t image_width,
                      const std::vector<FeatureMapSize>& feature_maps,
                      const AnchorGeneratorOptions& options, Device device, Tensor& anchors);

}  // namespace wise
