// Anchor generation for the RPN, as torchvision 0.14's AnchorGenerator
// (models/detection/anchor_utils.py; Ren et al. 2015, Faster R-CNN; Lin et al. 2017, FPN).
//
// Cell anchors of one FPN level, for sizes s_j and aspect ratios r_i (ratio-major,
// size-minor: anchor a = i * num_sizes + j), all in float32 as torch computes them:
//
//   h_ratio = sqrt(r_i),  w_ratio = 1 / h_ratio,  w = w_ratio * s_j,  h = h_ratio * s_j
//   cell[a] = round((-w, -h, w, h) / 2)          (torch.round: half to even = rintf)
//
// Grid anchors of a level with a feature map H x W and strides (stride_h, stride_w)
// (torchvision: image size // feature size, integer division):
//
//   anchors[(y * W + x) * A + a] = (x * stride_w, y * stride_h, x * stride_w, y * stride_h) + cell[a]
//
// locations y-major, x-minor, the A cell anchors of a location together. Gather: each
// element writes one coordinate; deterministic, identical on every device and thread count
// (sqrt, division and rint are correctly rounded, and nothing can be fused).
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/device.h"
#include "kernels/host_device.h"

namespace wise::kernels {

inline constexpr int kMaxAnchorSizes = 8;
inline constexpr int kMaxAspectRatios = 8;

// One level's sizes and aspect ratios, passed by value to the kernels.
struct CellAnchorConfig {
  float sizes[kMaxAnchorSizes] = {};
  float aspect_ratios[kMaxAspectRatios] = {};
  int num_sizes = 0;
  int num_aspect_ratios = 0;
};

WISE_HD inline int64_t cell_anchor_count(const CellAnchorConfig& config) {
  return static_cast<int64_t>(config.num_sizes) * config.num_aspect_ratios;
}

// Coordinate `coordinate` (0..3: x1, y1, x2, y2) of cell anchor `anchor`.
WISE_HD inline float cell_anchor_coordinate(const CellAnchorConfig& config, int64_t anchor,
                                            int64_t coordinate) {
  const float size = config.sizes[anchor % config.num_sizes];
  const float height_ratio = sqrtf(config.aspect_ratios[anchor / config.num_sizes]);
  const float width_ratio = 1.0f / height_ratio;
  const float half_extent = (coordinate % 2 == 0 ? width_ratio * size : height_ratio * size) * 0.5f;
  return rintf(coordinate < 2 ? -half_extent : half_extent);
}

// Element `index` of the level's (H * W * A, 4) anchors.
WISE_HD inline void grid_anchor_element(int64_t index, const CellAnchorConfig& config,
                                        int64_t grid_width, int64_t stride_height,
                                        int64_t stride_width, float* anchors) {
  const int64_t coordinate = index % 4;
  const int64_t count = cell_anchor_count(config);
  const int64_t anchor = (index / 4) % count;
  const int64_t location = index / (4 * count);
  const int64_t shift = coordinate % 2 == 0 ? (location % grid_width) * stride_width
                                            : (location / grid_width) * stride_height;
  anchors[index] = static_cast<float>(shift) + cell_anchor_coordinate(config, anchor, coordinate);
}

// ---- Launchers (kernels/anchors.cu) ----------------------------------------------------

// cell (A, 4) = the cell anchors of `config`.
void cell_anchors(Device device, const CellAnchorConfig& config, float* cell);

// anchors (grid_height * grid_width * A, 4) = the level's anchors.
void grid_anchors(Device device, const CellAnchorConfig& config, int64_t grid_height,
                  int64_t grid_width, int64_t stride_height, int64_t stride_width, float* anchors);

}  // namespace wise::kernels
