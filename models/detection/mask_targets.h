// Mask R-CNN's mask-head targets (He et al. 2017, Sec. 3): each positive proposal's
// ground-truth mask, cropped to the proposal box and resized to M x M, the target of the
// per-pixel binary cross-entropy. torchvision 0.14's
// roi_heads.project_masks_on_boxes(gt_masks, boxes, matched_idxs, M):
//
//   rois = cat([matched_idxs[:, None].float(), boxes], 1)
//   targets = roi_align(gt_masks[:, None].float(), rois, (M, M), spatial_scale=1.0)[:, 0]
//
// i.e. RoIAlign with sampling_ratio -1 (adaptive) and aligned = False (legacy: boxes at
// least 1 x 1 pixel), the gt masks playing the role of a (G, 1, H, W) feature map whose
// batch index is the matched gt. Targets are fractions in [0, 1] for 0/1 masks (not
// thresholded, as torchvision). Geometry, empty boxes and boxes partly or wholly outside
// the image follow kernels/roi_align.h (outside samples contribute 0).
//
// No backward: targets are constants of the loss.
#pragma once

#include <cstdint>

#include "nn/tensor.h"

namespace wise {

// gt_masks (G, H, W) uint8, H, W > 0; boxes (K, 4) float32 (x1, y1, x2, y2) in the masks'
// pixel coordinates; matched_idxs (K) int64 in [0, G): the gt each proposal is matched
// to; all on one device; K may be 0. targets (K, M, M) float32, overwritten.
// An index out of range is a named error on the CPU; on the GPU (where checking it would
// need a host round-trip) its target is all zeros (kernels/mask_targets.h).
void project_masks_on_boxes(const Tensor& gt_masks, const Tensor& boxes,
                            const Tensor& matched_idxs, int64_t M, Tensor& targets);

}  // namespace wise
