// Pasting Mask R-CNN's RoI masks into the image: the last step of post-processing, after
// the mask head (He et al. 2017, Sec. 3). torchvision 0.14's
// roi_heads.paste_masks_in_image, thresholded. The kernel, torchvision's paste
// arithmetic (box expansion by the padding, truncation toward zero) and the edge cases
// are documented in kernels/mask_ops.h.
//
// The output is (re)allocated with ensure_tensor and overwritten. No backward: the
// pasted masks are the network's output, not a training signal.
#pragma once

#include <cstdint>

#include "nn/tensor.h"

namespace wise {

struct PasteMasksOptions {
  int64_t image_height = 0;
  int64_t image_width = 0;
  int64_t padding = 1;      // torchvision's paste_masks_in_image(padding=1)
  float threshold = 0.5f;   // output = probability > threshold
};

// masks (K, 1, M, M) float32 probabilities (the mask head's sigmoid of the chosen class),
// boxes (K, 4) float32 (x1, y1, x2, y2) in image pixels -> output (K, image_height,
// image_width) uint8 in {0, 1}: torchvision 0.14's paste_masks_in_image, thresholded.
void paste_masks_in_image(const Tensor& masks, const Tensor& boxes,
                          const PasteMasksOptions& options, Tensor& output);

}  // namespace wise
