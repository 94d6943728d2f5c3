// The two small kernels behind Mask R-CNN's mask-head targets (He et al. 2017, Sec. 3,
// "the mask target is the intersection between an RoI and its associated ground-truth
// mask"), torchvision 0.14's roi_heads.project_masks_on_boxes:
//   rois = cat(matched_idxs[:, None].float(), boxes)     -> mask_target_rois
//   gt_masks[:, None].float()                            -> masks_to_float
// followed by roi_align(masks, rois, (M, M), 1.0) (kernels/roi_align.h, which does the
// crop-and-resize itself).
//
// Both are maps (one element per output value, a gather); deterministic.
#pragma once

#include <cstdint>

#include "kernels/device.h"

namespace wise::kernels {

// rois (K, 5) = (matched_idxs[k], boxes[k]) as float. An index outside [0, G) becomes
// batch index -1, which roi_align turns into an all-zero target (the nn/ layer checks the
// range first on the CPU; on the GPU this is what keeps a bad index from reading
// out of bounds without a host round-trip).
void mask_target_rois(Device device, const float* boxes, const int64_t* matched_idxs, int64_t K,
                      int64_t G, float* rois);

// out[i] = float(masks[i]), the value itself (as torch's .to(float): 1 -> 1.0, 255 -> 255.0).
void masks_to_float(Device device, const uint8_t* masks, float* out, int64_t n);

}  // namespace wise::kernels
