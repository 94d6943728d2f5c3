// Naive references for the mask operations (nn/masks.h, models/detection/paste_masks.h), written from the definitions,
// independently of kernels/mask_ops.h: IoU by counting bytes (no bit packing), boxes
// by scanning every pixel, and the paste as torchvision spells it: resize the padded
// mask to the whole (h, w) box with interpolation matrices in double, then copy the
// slice that lies inside the image.
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

// (n, m): |a_i & b_j| / |a_i | b_j|, 0 when the union is empty. Masks (n|m, H, W), != 0 is 1.
std::vector<double> mask_iou(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                             int64_t n, int64_t m, int64_t H, int64_t W);

// (N, 4): min x, min y, max x, max y of the foreground; zeros for an empty mask.
std::vector<double> masks_to_boxes(const std::vector<uint8_t>& masks, int64_t N, int64_t H,
                                   int64_t W);

// (K, H, W) probabilities of torchvision 0.14's paste_masks_in_image (not thresholded).
// The box expansion is torch's float32 arithmetic (it decides integer pixel bounds,
// so it must round as torch does); the interpolation is in double.
std::vector<double> paste_masks_in_image(const std::vector<float>& masks,
                                         const std::vector<float>& boxes, int64_t K, int64_t M,
                                         int64_t padding, int64_t H, int64_t W);

}  // namespace wise::reference
