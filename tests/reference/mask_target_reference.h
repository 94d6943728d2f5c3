// Naive double-precision reference for Mask R-CNN's mask targets (torchvision 0.14's
// roi_heads.project_masks_on_boxes), written from the RoIAlign definition (Mask R-CNN
// Sec. 3, legacy aligned = False, adaptive sampling, spatial_scale 1) directly on the
// uint8 mask, independently of kernels/roi_align.h and tests/reference/roi_align_reference.
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

// targets (K, M, M) from gt_masks (G, H, W), boxes (K, 4) (x1, y1, x2, y2) and
// matched_idxs (K) in [0, G).
std::vector<double> project_masks_on_boxes(const std::vector<uint8_t>& gt_masks, int64_t G,
                                           int64_t H, int64_t W, const std::vector<float>& boxes,
                                           const std::vector<int64_t>& matched_idxs, int64_t M);

}  // namespace wise::reference
