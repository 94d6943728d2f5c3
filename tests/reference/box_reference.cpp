// Naive double references for box operations and NMS (see box_reference.h).
#include "tests/reference/box_reference.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace wise::reference {

namespace {

// torch.clamp semantics: NaN passes through.
double clamp_nan(double x, double low, double high) {
  if (std::isnan(x)) return x;
  return x < low ? low : (x > high ? high : x);
}

}  // namespace

double box_iou(const float* a, const float* b) {
  const double area_a = (double(a[2]) - a[0]) * (double(a[3]) - a[1]);
  const double area_b = (double(b[2]) - b[0]) * (double(b[3]) - b[1]);
  // Any NaN coordinate makes an area NaN, and so the IoU.
  const double left = std::max<double>(a[0], b[0]), right = std::min<double>(a[2], b[2]);
  const double top = std::max<double>(a[1], b[1]), bottom = std::min<double>(a[3], b[3]);
  const double width = right - left > 0.0 ? right - left : 0.0;
  const double height = bottom - top > 0.0 ? bottom - top : 0.0;
  const double intersection = width * height;
  return intersection / (area_a + area_b - intersection);
}

std::vector<double> box_iou_matrix(const std::vector<float>& boxes1,
                                   const std::vector<float>& boxes2) {
  const size_t n = boxes1.size() / 4, m = boxes2.size() / 4;
  std::vector<double> iou(n * m);
  for (size_t i = 0; i < n; ++i) {
    for (size_t j = 0; j < m; ++j) iou[i * m + j] = box_iou(&boxes1[4 * i], &boxes2[4 * j]);
  }
  return iou;
}

std::vector<int64_t> nms(const std::vector<float>& boxes, const std::vector<float>& scores,
                         const std::vector<int64_t>& categories, double iou_threshold,
                         int64_t top_k) {
  const int64_t n = static_cast<int64_t>(scores.size());
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  // torch.sort(descending=True, stable=True): NaN above everything, ties by index.
  std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) {
    const double a = scores[i], b = scores[j];
    if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && !std::isnan(b);
    return a > b;
  });
  if (top_k >= 0 && top_k < n) order.resize(static_cast<size_t>(top_k));
  std::vector<char> suppressed(order.size(), 0);
  std::vector<int64_t> keep;
  for (size_t p = 0; p < order.size(); ++p) {
    if (suppressed[p]) continue;
    const int64_t i = order[p];
    keep.push_back(i);
    for (size_t q = p + 1; q < order.size(); ++q) {
      const int64_t j = order[q];
      if (suppressed[q] || (!categories.empty() && categories[i] != categories[j])) continue;
      // torchvision's IoU is a float compared with the double threshold: an IoU of
      // exactly 3/10 is 0.3f > 0.3 and suppresses.
      const double iou = static_cast<float>(box_iou(&boxes[4 * i], &boxes[4 * j]));
      if (iou > iou_threshold) suppressed[q] = 1;
    }
  }
  return keep;
}

std::vector<double> box_encode(const std::vector<float>& reference_boxes,
                               const std::vector<float>& proposals, const double weights[4]) {
  std::vector<double> targets(proposals.size());
  for (size_t i = 0; i + 3 < proposals.size(); i += 4) {
    const float* g = &reference_boxes[i];
    const float* p = &proposals[i];
    const double pw = double(p[2]) - p[0], ph = double(p[3]) - p[1];
    const double gw = double(g[2]) - g[0], gh = double(g[3]) - g[1];
    const double px = p[0] + 0.5 * pw, py = p[1] + 0.5 * ph;
    const double gx = g[0] + 0.5 * gw, gy = g[1] + 0.5 * gh;
    targets[i + 0] = weights[0] * (gx - px) / pw;
    targets[i + 1] = weights[1] * (gy - py) / ph;
    targets[i + 2] = weights[2] * std::log(gw / pw);
    targets[i + 3] = weights[3] * std::log(gh / ph);
  }
  return targets;
}

std::vector<double> box_decode(const std::vector<float>& rel_codes, const std::vector<float>& boxes,
                               const double weights[4], double bbox_xform_clip) {
  const size_t n = boxes.size() / 4;
  const size_t classes = n == 0 ? 0 : rel_codes.size() / (4 * n);
  std::vector<double> out(rel_codes.size());
  for (size_t i = 0; i < n; ++i) {
    const float* box = &boxes[4 * i];
    const double width = double(box[2]) - box[0], height = double(box[3]) - box[1];
    const double cx = box[0] + 0.5 * width, cy = box[1] + 0.5 * height;
    for (size_t k = 0; k < classes; ++k) {
      const float* code = &rel_codes[4 * (i * classes + k)];
      const double dx = code[0] / weights[0], dy = code[1] / weights[1];
      double dw = code[2] / weights[2], dh = code[3] / weights[3];
      if (dw > bbox_xform_clip) dw = bbox_xform_clip;
      if (dh > bbox_xform_clip) dh = bbox_xform_clip;
      const double x = dx * width + cx, y = dy * height + cy;
      const double w = std::exp(dw) * width, h = std::exp(dh) * height;
      double* o = &out[4 * (i * classes + k)];
      o[0] = x - 0.5 * w;
      o[1] = y - 0.5 * h;
      o[2] = x + 0.5 * w;
      o[3] = y + 0.5 * h;
    }
  }
  return out;
}

std::vector<double> clip_boxes_to_image(const std::vector<float>& boxes, double height,
                                        double width) {
  std::vector<double> out(boxes.size());
  for (size_t i = 0; i < boxes.size(); ++i) {
    out[i] = clamp_nan(boxes[i], 0.0, i % 2 == 0 ? width : height);
  }
  return out;
}

std::vector<int64_t> remove_small_boxes(const std::vector<float>& boxes, double min_size) {
  std::vector<int64_t> keep;
  for (size_t i = 0; 4 * i + 3 < boxes.size(); ++i) {
    const float* b = &boxes[4 * i];
    if (double(b[2]) - b[0] >= min_size && double(b[3]) - b[1] >= min_size) {
      keep.push_back(static_cast<int64_t>(i));
    }
  }
  return keep;
}

}  // namespace wise::reference
