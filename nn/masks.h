// Mask operations over tensors: pairwise mask IoU (bit-packed) and masks -> boxes, the
// one mask-IoU function of wise (evaluation uses it; proposals and Mask R-CNN will). The
// kernels, the bit-packed representation and the edge cases (IoU of two empty masks = 0,
// box of an empty mask = zeros) are documented in kernels/mask_ops.h. Pasting Mask
// R-CNN's RoI masks into the image is models/detection/paste_masks.h.
//
// Masks are uint8 (N, H, W), any non-zero pixel foreground. Outputs are (re)allocated
// with ensure_tensor and overwritten; nothing here has a gradient.
#pragma once

#include "nn/tensor.h"

namespace wise {

// masks (N, H, W) uint8 -> packed (N, ceil(H W / 64)) int64 words holding the bits
// (read as uint64), areas (N) int64 foreground counts. Pack a set once and compare it
// with many others through mask_iou_packed.
void pack_masks(const Tensor& masks, Tensor& packed, Tensor& areas);

// iou (n, m) float32: IoU of every packed mask of a (n, words) with every one of b
// (m, words); both packed from masks of the same H x W (only `words` can be checked).
void mask_iou_packed(const Tensor& packed_a, const Tensor& areas_a, const Tensor& packed_b,
                     const Tensor& areas_b, Tensor& iou);

// iou (n, m) float32 of masks_a (n, H, W) and masks_b (m, H, W) uint8: packs both, then
// mask_iou_packed. pycocotools' maskUtils.iou(a, b, iscrowd=0), rounded to float.
void mask_iou(const Tensor& masks_a, const Tensor& masks_b, Tensor& iou);

// boxes (N, 4) float32 (x1, y1, x2, y2), x2 and y2 inclusive, of masks (N, H, W) uint8:
// torchvision.ops.masks_to_boxes; an empty mask gives (0, 0, 0, 0).
void masks_to_boxes(const Tensor& masks, Tensor& boxes);

}  // namespace wise
