// Naive double-precision references for box operations and NMS, written from
// torchvision's documented semantics (ops/boxes.py, csrc/ops/cpu/nms_kernel.cpp,
// detection/_utils.py), independently of kernels/box_ops.h and kernels/nms.h: boxes
// are host vectors of (x1, y1, x2, y2) rows, IoU is computed in double, and NMS is
// torchvision's CPU loop (visit in order, suppress later boxes, skip suppressed ones)
// rather than a bitmask.
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

// IoU of a and b (4 values each): inter / (area a + area b - inter); NaN for 0 / 0.
double box_iou(const float* a, const float* b);

// (n, m) IoU matrix of boxes1 (n, 4) against boxes2 (m, 4).
std::vector<double> box_iou_matrix(const std::vector<float>& boxes1,
                                   const std::vector<float>& boxes2);

// Greedy NMS: visit by score descending (NaN first, ties by index ascending), only the
// first top_k when top_k >= 0; keep unless a kept box of the same category (when
// categories is not empty) has IoU > iou_threshold, the IoU rounded to float as
// torchvision's. Indices into the input, in keep order.
std::vector<int64_t> nms(const std::vector<float>& boxes, const std::vector<float>& scores,
                         const std::vector<int64_t>& categories, double iou_threshold,
                         int64_t top_k = -1);

// BoxCoder.encode_single(reference_boxes, proposals) with weights (wx, wy, ww, wh): (n, 4).
std::vector<double> box_encode(const std::vector<float>& reference_boxes,
                               const std::vector<float>& proposals, const double weights[4]);

// BoxCoder.decode_single(rel_codes (n, 4K), boxes (n, 4)): (n, 4K); dw, dh <= clip.
std::vector<double> box_decode(const std::vector<float>& rel_codes, const std::vector<float>& boxes,
                               const double weights[4], double bbox_xform_clip);

// clip_boxes_to_image: x in [0, width], y in [0, height]; NaN stays NaN.
std::vector<double> clip_boxes_to_image(const std::vector<float>& boxes, double height,
                                        double width);

// remove_small_boxes: ascending indices of boxes with width and height >= min_size.
std::vector<int64_t> remove_small_boxes(const std::vector<float>& boxes, double min_size);

}  // namespace wise::reference
