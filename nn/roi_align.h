// RoIAlign (Mask R-CNN) and multi-level RoIAlign (FPN's MultiScaleRoIAlign), with
// torchvision 0.14's semantics: torchvision.ops.roi_align and
// torchvision.ops.MultiScaleRoIAlign. The geometry, the bilinear rule, the FPN level
// mapper, the handling of empty / outside / non-finite RoIs and the backward's
// determinism (CPU: bitwise deterministic plane partition; CUDA: atomicAdd, not
// deterministic) are described in kernels/roi_align.h.
//
// rois (K, 5) float32 = (batch_index, x1, y1, x2, y2) in input-image coordinates, on the
// features' device; K may be 0 (empty output). Features are plain (N, C, H, W) float32.
// Outputs (K, C, pooled_height, pooled_width) are overwritten; gradients accumulate
// (d_input += ...) and must already exist with the features' shapes.
#pragma once

#include <vector>

#include "nn/tensor.h"

namespace wise {

// torchvision.ops.roi_align(input, rois, output_size, spatial_scale, sampling_ratio, aligned).
struct RoiAlignOptions {
  int64_t pooled_height = 7;  // output_size
  int64_t pooled_width = 7;
  float spatial_scale = 1.0f;
  int64_t sampling_ratio = -1;  // <= 0: adaptive, ceil(roi_size / pooled_size)
  bool aligned = false;         // true: half-pixel offset; false: legacy (min RoI size 1)
};

// input (N, C, H, W), rois (K, 5) -> output (K, C, pooled_height, pooled_width).
void roi_align_forward(const Tensor& input, const Tensor& rois, const RoiAlignOptions& options,
                       Tensor& output);
// d_input (N, C, H, W) += the scatter of d_output (K, C, pooled_height, pooled_width).
void roi_align_backward(const Tensor& d_output, const Tensor& rois, const RoiAlignOptions& options,
                        Tensor& d_input);

// torchvision.ops.MultiScaleRoIAlign(featmap_names, output_size, sampling_ratio) over
// FPN levels P2..P5: each RoI is pooled from the level of FPN Eq. 1 (canonical scale 224,
// canonical level 4, eps 1e-6). torchvision infers the scales from the feature and
// image sizes; here they are given: spatial_scales[l] = 2^-(k_min + l) (1/4, 1/8, 1/16,
// 1/32 for P2..P5), one per feature, at most 8. aligned = false is torchvision's
// (MultiScaleRoIAlign calls roi_align with its default).
struct MultiScaleRoiAlignOptions {
  int64_t pooled_height = 7;
  int64_t pooled_width = 7;
  int64_t sampling_ratio = 2;
  bool aligned = false;
  std::vector<float> spatial_scales{0.25f, 0.125f, 0.0625f, 0.03125f};
};

// features[l] (N, C, H_l, W_l), rois (K, 5) -> output (K, C, pooled_height, pooled_width),
// in the RoIs' order; a RoI on no level (NaN or negative area) gives 0, as in torchvision.
void multi_scale_roi_align_forward(const std::vector<Tensor>& features, const Tensor& rois,
                                   const MultiScaleRoiAlignOptions& options, Tensor& output);
// d_features[l] (N, C, H_l, W_l) += the scatter of d_output into each RoI's level.
void multi_scale_roi_align_backward(const Tensor& d_output, const Tensor& rois,
                                    const MultiScaleRoiAlignOptions& options,
                                    std::vector<Tensor>& d_features);

}  // namespace wise
