// Naive double-precision references for RoIAlign and multi-level RoIAlign, written from
// torchvision's documented semantics (Mask R-CNN Sec. 3, FPN Eq. 1), independently of
// kernels/roi_align.h: every bin's samples are listed as (pixel, weight) pairs, the
// forward sums weight * pixel and the backward adds weight * d_output to each pixel.
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

struct RoiAlignSpec {
  int64_t pooled_height = 7, pooled_width = 7;
  double spatial_scale = 1.0;
  int64_t sampling_ratio = -1;
  bool aligned = false;
};

// (K, C, ph, pw) from input (N, C, H, W) and rois (K, 5).
std::vector<double> roi_align(const std::vector<float>& input, int64_t N, int64_t C, int64_t H,
                              int64_t W, const std::vector<float>& rois, const RoiAlignSpec& spec);
// prior (N, C, H, W) + scatter of d_output (K, C, ph, pw).
std::vector<double> roi_align_backward(const std::vector<float>& d_output, int64_t N, int64_t C,
                                       int64_t H, int64_t W, const std::vector<float>& rois,
                                       const RoiAlignSpec& spec, const std::vector<float>& prior);

// FPN Eq. 1 level index in [0, levels) for k_min, or -1 when not a number.
int fpn_level(const float* roi, int k_min, int levels);

struct FeatureLevel {
  std::vector<float> data;  // (N, C, H, W)
  int64_t H, W;
  double spatial_scale;
};

// MultiScaleRoIAlign: each RoI pooled from its level (aligned and sampling from spec;
// spec.spatial_scale unused); levels[l].spatial_scale = 2^-(k_min + l).
std::vector<double> multi_scale_roi_align(const std::vector<FeatureLevel>& levels, int64_t N,
                                          int64_t C, const std::vector<float>& rois, int k_min,
                                          const RoiAlignSpec& spec);
// Per level: prior[l] + scatter of the RoIs on that level.
std::vector<std::vector<double>> multi_scale_roi_align_backward(
    const std::vector<float>& d_output, const std::vector<FeatureLevel>& levels, int64_t N,
    int64_t C, const std::vector<float>& rois, int k_min, const RoiAlignSpec& spec,
    const std::vector<std::vector<float>>& priors);

}  // namespace wise::reference
