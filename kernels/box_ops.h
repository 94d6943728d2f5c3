// Box operations: pairwise IoU, the IoU matrix, Faster R-CNN's box coder (encode /
// decode), clipping to the image and removing small boxes.
//
// Boxes are (x1, y1, x2, y2) float rows, as torchvision's. The semantics are
// torchvision's (ops/boxes.py, models/detection/_utils.py BoxCoder):
//
//   area(b)   = (x2 - x1) * (y2 - y1)                 (negative for inverted boxes)
//   inter     = max(0, min(ax2, bx2) - max(ax1, bx1)) * max(0, min(ay2, by2) - max(ay1, by1))
//   IoU(a, b) = inter / (area(a) + area(b) - inter)
//
// with no special case: like torchvision's box_iou and its CPU nms, two zero-area
// boxes give 0 / 0 = NaN, and any NaN coordinate gives NaN. A NaN IoU is never
// "> threshold", so NMS neither suppresses with nor suppresses such a box, exactly
// as torchvision's CPU nms. (Callers that want 0 there must test for it.)
//
// box_iou_pair is THE IoU function of the project: the IoU matrix, NMS, and later
// anchor matching and evaluation all call it, so they agree bit for bit.
//
// Rounding: g++ (-march with FMA) and nvcc contract a*b+c into an fma on their own
// and differently, so the two sums of products here are spelled as fmaf: the
// result is then the same on every device and thread count. Against torchvision's
// unfused float formula it differs by at most an ulp in rare cases, and not at all
// where the products are exact (boxes on a grid of halves, which the NMS tests use
// so that decisions at the threshold are exact).
//
// Box coder (Faster R-CNN, Girshick et al. 2015, Eq. 2), weights (wx, wy, ww, wh):
//   encode:  dx = wx (gx - px) / pw,  dy = wy (gy - py) / ph,
//            dw = ww log(gw / pw),    dh = wh log(gh / ph)     (centres, widths; no +1)
//   decode:  dw, dh clamped above at bbox_xform_clip = log(1000 / 16) before exp.
//
// All element functions are gathers (each writes its own output row): deterministic,
// identical at any thread count.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/device.h"
#include "kernels/host_device.h"

namespace wise::kernels {

// torchvision's BoxCoder weights: (10, 10, 5, 5) for the box head, (1, 1, 1, 1) for the RPN.
struct BoxCoderWeights {
  float x = 1.0f, y = 1.0f, w = 1.0f, h = 1.0f;
};

// The IoU of boxes a and b (4 floats each); NaN for two zero-area boxes or NaN input.
WISE_HD inline float box_iou_pair(const float* a, const float* b) {
  const float width = max_of(min_of(a[2], b[2]) - max_of(a[0], b[0]), 0.0f);
  const float height = max_of(min_of(a[3], b[3]) - max_of(a[1], b[1]), 0.0f);
  const float area_b = (b[2] - b[0]) * (b[3] - b[1]);
  const float sum_of_areas = fmaf(a[2] - a[0], a[3] - a[1], area_b);
  const float intersection = width * height;
  const float union_area = fmaf(-width, height, sum_of_areas);
  return intersection / union_area;
}

// iou[i * m + j] = IoU(boxes1[i], boxes2[j]) for index = i * m + j.
WISE_HD inline void box_iou_matrix_element(int64_t index, const float* boxes1, const float* boxes2,
                                           int64_t m, float* iou) {
  const int64_t i = index / m, j = index % m;
  iou[index] = box_iou_pair(boxes1 + 4 * i, boxes2 + 4 * j);
}

// Row `index` of the regression targets of reference box (ground truth) g against proposal p.
WISE_HD inline void box_encode_element(int64_t index, const float* reference_boxes,
                                       const float* proposals, BoxCoderWeights weights,
                                       float* targets) {
  const float* g = reference_boxes + 4 * index;
  const float* p = proposals + 4 * index;
  const float proposal_width = p[2] - p[0], proposal_height = p[3] - p[1];
  const float proposal_center_x = fmaf(0.5f, proposal_width, p[0]);  // 0.5 w is exact
  const float proposal_center_y = fmaf(0.5f, proposal_height, p[1]);
  const float reference_width = g[2] - g[0], reference_height = g[3] - g[1];
  const float reference_center_x = fmaf(0.5f, reference_width, g[0]);
  const float reference_center_y = fmaf(0.5f, reference_height, g[1]);
  float* t = targets + 4 * index;
  t[0] = weights.x * (reference_center_x - proposal_center_x) / proposal_width;
  t[1] = weights.y * (reference_center_y - proposal_center_y) / proposal_height;
  t[2] = weights.w * logf(reference_width / proposal_width);
  t[3] = weights.h * logf(reference_height / proposal_height);
}

// Decodes rel_codes (N, 4K) against boxes (N, 4): index = n * K + k writes
// pred_boxes[n, 4k .. 4k+3]. dw and dh are clamped above at bbox_xform_clip (NaN passes).
WISE_HD inline void box_decode_element(int64_t index, const float* rel_codes, const float* boxes,
                                       int64_t num_classes, BoxCoderWeights weights,
                                       float bbox_xform_clip, float* pred_boxes) {
  const float* box = boxes + 4 * (index / num_classes);
  const float* code = rel_codes + 4 * index;
  const float width = box[2] - box[0], height = box[3] - box[1];
  const float center_x = fmaf(0.5f, width, box[0]);
  const float center_y = fmaf(0.5f, height, box[1]);
  const float dx = code[0] / weights.x, dy = code[1] / weights.y;
  const float dw = min_of(code[2] / weights.w, bbox_xform_clip);
  const float dh = min_of(code[3] / weights.h, bbox_xform_clip);
  const float pred_center_x = fmaf(dx, width, center_x);
  const float pred_center_y = fmaf(dy, height, center_y);
  const float pred_width = expf(dw) * width, pred_height = expf(dh) * height;
  float* out = pred_boxes + 4 * index;
  out[0] = fmaf(-0.5f, pred_width, pred_center_x);
  out[1] = fmaf(-0.5f, pred_height, pred_center_y);
  out[2] = fmaf(0.5f, pred_width, pred_center_x);
  out[3] = fmaf(0.5f, pred_height, pred_center_y);
}

// Coordinate `index` (of 4N) clamped to [0, width] (x) or [0, height] (y); NaN passes.
WISE_HD inline void clip_boxes_to_image_element(int64_t index, const float* boxes, float height,
                                                float width, float* clipped) {
  const float high = index % 2 == 0 ? width : height;
  clipped[index] = min_of(max_of(boxes[index], 0.0f), high);
}

// 1 when box `index` has width and height >= min_size (torchvision's remove_small_boxes).
WISE_HD inline int64_t box_is_large_enough(const float* box, float min_size) {
  return (box[2] - box[0] >= min_size) && (box[3] - box[1] >= min_size) ? 1 : 0;
}

// ---- Launchers (kernels/box_ops.cu) ----------------------------------------------------

// iou (n, m) = IoU of boxes1 (n, 4) against boxes2 (m, 4).
void box_iou_matrix(Device device, const float* boxes1, int64_t n, const float* boxes2, int64_t m,
                    float* iou);

// targets (n, 4) = encode(reference_boxes (n, 4), proposals (n, 4)).
void box_encode(Device device, const float* reference_boxes, const float* proposals, int64_t n,
                BoxCoderWeights weights, float* targets);

// pred_boxes (n, 4K) = decode(rel_codes (n, 4K), boxes (n, 4)).
void box_decode(Device device, const float* rel_codes, const float* boxes, int64_t n,
                int64_t num_classes, BoxCoderWeights weights, float bbox_xform_clip,
                float* pred_boxes);

// clipped (n, 4) = boxes clamped to the image; clipped == boxes is allowed.
void clip_boxes_to_image(Device device, const float* boxes, int64_t n, float height, float width,
                         float* clipped);

// Writes the ascending indices of the boxes (n, 4) with width and height >= min_size
// to keep (capacity n) and returns their count. workspace: n int64 on `device`.
int64_t remove_small_boxes(Device device, const float* boxes, int64_t n, float min_size,
                           int64_t* workspace, int64_t* keep);

}  // namespace wise::kernels
