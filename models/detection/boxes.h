// Box operations and NMS on tensors (kernels/box_ops.h, kernels/nms.h hold the
// arithmetic and say what each computes; torchvision's semantics throughout).
//
// Boxes are float32 (N, 4) tensors of (x1, y1, x2, y2) rows; every function runs on
// the device of its inputs, which must all be on one device. Index outputs (keep
// lists) are int64 tensors on that device, in torchvision's order. Outputs are
// (re)allocated with ensure_tensor and overwritten. There are no backward passes:
// nothing here is differentiated in Mask R-CNN (torchvision detaches the boxes).
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/nms.h"
#include "nn/tensor.h"

namespace wise {

// iou (N, M) = IoU of boxes1 (N, 4) against boxes2 (M, 4) (torchvision's box_iou:
// NaN for two zero-area boxes).
void box_iou(const Tensor& boxes1, const Tensor& boxes2, Tensor& iou);

// torchvision.models.detection._utils.BoxCoder's configuration.
struct BoxCoderOptions {
  kernels::BoxCoderWeights weights{1.0f, 1.0f, 1.0f, 1.0f};  // (10, 10, 5, 5) in the box head
  float bbox_xform_clip = static_cast<float>(std::log(1000.0 / 16.0));
};

// targets (N, 4) = BoxCoder.encode_single(reference_boxes (N, 4), proposals (N, 4)).
void box_encode(const Tensor& reference_boxes, const Tensor& proposals,
                const BoxCoderOptions& options, Tensor& targets);

// pred_boxes (N, 4K) = BoxCoder.decode_single(rel_codes (N, 4K), boxes (N, 4)).
void box_decode(const Tensor& rel_codes, const Tensor& boxes, const BoxCoderOptions& options,
                Tensor& pred_boxes);

// clipped (N, 4) = boxes with x clamped to [0, width] and y to [0, height] (NaN passes).
// clipped may be boxes itself.
void clip_boxes_to_image(const Tensor& boxes, int64_t height, int64_t width, Tensor& clipped);

// keep (K) int64 = ascending indices of the boxes with width and height >= min_size.
void remove_small_boxes(const Tensor& boxes, float min_size, Tensor& keep);

struct NmsOptions {
  double iou_threshold = 0.5;  // suppress when IoU > iou_threshold (strictly)
  int64_t top_k = -1;          // >= 0: only the top_k highest scores take part
  int64_t mask_budget_bytes = kernels::kNmsDefaultMaskBudgetBytes;  // per mask block
};

// keep (K) int64 = torchvision.ops.nms(boxes (N, 4), scores (N), iou_threshold):
// indices into the input, by score descending (ties: index ascending).
void nms(const Tensor& boxes, const Tensor& scores, const NmsOptions& options, Tensor& keep);

// keep (K) int64 = torchvision.ops.batched_nms(boxes, scores, idxs (N) int64, ...):
// boxes of different idxs never suppress each other (exact; see kernels/nms.h).
void batched_nms(const Tensor& boxes, const Tensor& scores, const Tensor& idxs,
                 const NmsOptions& options, Tensor& keep);

}  // namespace wise
