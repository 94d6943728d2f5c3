// Naive references for the mask operations (see mask_reference.h).
#include "tests/reference/mask_reference.h"

#include <algorithm>
#include <cmath>

namespace wise::reference {

std::vector<double> mask_iou(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b,
                             int64_t n, int64_t m, int64_t H, int64_t W) {
  const int64_t pixels = H * W;
  std::vector<double> iou(static_cast<size_t>(n * m));
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < m; ++j) {
      int64_t intersection = 0, union_area = 0;
      for (int64_t p = 0; p < pixels; ++p) {
        const bool in_a = a[static_cast<size_t>(i * pixels + p)] != 0;
        const bool in_b = b[static_cast<size_t>(j * pixels + p)] != 0;
        intersection += in_a && in_b;
        union_area += in_a || in_b;
      }
      iou[static_cast<size_t>(i * m + j)] =
          union_area > 0 ? double(intersection) / double(union_area) : 0.0;
    }
  }
  return iou;
}

std::vector<double> masks_to_boxes(const std::vector<uint8_t>& masks, int64_t N, int64_t H,
                                   int64_t W) {
  std::vector<double> boxes(static_cast<size_t>(N * 4), 0.0);
  for (int64_t n = 0; n < N; ++n) {
    bool any = false;
    double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
    for (int64_t y = 0; y < H; ++y) {
      for (int64_t x = 0; x < W; ++x) {
        if (masks[static_cast<size_t>((n * H + y) * W + x)] == 0) continue;
        if (!any) {
          x1 = x2 = double(x);
          y1 = y2 = double(y);
          any = true;
        }
        x1 = std::min(x1, double(x));
        x2 = std::max(x2, double(x));
        y1 = std::min(y1, double(y));
        y2 = std::max(y2, double(y));
      }
    }
    if (!any) continue;
    double* box = &boxes[static_cast<size_t>(n * 4)];
    box[0] = x1, box[1] = y1, box[2] = x2, box[3] = y2;
  }
  return boxes;
}

namespace {

// F.interpolate(align_corners=False) along one axis as an (out x in) matrix, in double:
// src = max((dst + 1/2) in / out - 1/2, 0), taps floor(src) and the next (clamped).
std::vector<double> interpolation_matrix(int64_t in, int64_t out) {
  std::vector<double> matrix(static_cast<size_t>(out * in), 0.0);
  for (int64_t dst = 0; dst < out; ++dst) {
    const double src = std::max((double(dst) + 0.5) * double(in) / double(out) - 0.5, 0.0);
    const int64_t i0 = std::min(int64_t(std::floor(src)), in - 1);
    const int64_t i1 = std::min(i0 + 1, in - 1);
    const double lambda1 = src - double(i0);
    matrix[static_cast<size_t>(dst * in + i0)] += 1.0 - lambda1;
    matrix[static_cast<size_t>(dst * in + i1)] += lambda1;
  }
  return matrix;
}

}  // namespace

std::vector<double> paste_masks_in_image(const std::vector<float>& masks,
                                         const std::vector<float>& boxes, int64_t K, int64_t M,
                                         int64_t padding, int64_t H, int64_t W) {
  std::vector<double> image(static_cast<size_t>(K * H * W), 0.0);
  const int64_t P = M + 2 * padding;
  // expand_masks: scale = float((M + 2 padding) / M); expand_boxes in float32, each op
  // rounded on its own (volatile: no fused multiply-add), then truncated to int64.
  const float scale = static_cast<float>(double(P) / double(M));
  for (int64_t k = 0; k < K; ++k) {
    const float* b = &boxes[static_cast<size_t>(k * 4)];
    volatile float w_half = (b[2] - b[0]) * 0.5f, h_half = (b[3] - b[1]) * 0.5f;
    w_half = w_half * scale;
    h_half = h_half * scale;
    const float x_c = (b[2] + b[0]) * 0.5f, y_c = (b[3] + b[1]) * 0.5f;
    const int64_t x1 = int64_t(x_c - w_half), x2 = int64_t(x_c + w_half);
    const int64_t y1 = int64_t(y_c - h_half), y2 = int64_t(y_c + h_half);
    // paste_mask_in_image: resize the padded mask to (h, w), copy the part in the image.
    const int64_t w = std::max<int64_t>(x2 - x1 + 1, 1), h = std::max<int64_t>(y2 - y1 + 1, 1);
    std::vector<double> padded(static_cast<size_t>(P * P), 0.0);
    for (int64_t r = 0; r < M; ++r) {
      for (int64_t c = 0; c < M; ++c) {
        padded[static_cast<size_t>((r + padding) * P + c + padding)] =
            masks[static_cast<size_t>((k * M + r) * M + c)];
      }
    }
    const std::vector<double> A_h = interpolation_matrix(P, h), A_w = interpolation_matrix(P, w);
    for (int64_t y = std::max<int64_t>(y1, 0); y < std::min(y2 + 1, H); ++y) {
      for (int64_t x = std::max<int64_t>(x1, 0); x < std::min(x2 + 1, W); ++x) {
        double sum = 0.0;  // (A_h padded A_w^T)[y - y1, x - x1]
        for (int64_t r = 0; r < P; ++r) {
          const double a = A_h[static_cast<size_t>((y - y1) * P + r)];
          if (a == 0.0) continue;
          for (int64_t c = 0; c < P; ++c) {
            sum += a * A_w[static_cast<size_t>((x - x1) * P + c)] *
                   padded[static_cast<size_t>(r * P + c)];
          }
        }
        image[static_cast<size_t>((k * H + y) * W + x)] = sum;
      }
    }
  }
  return image;
}

}  // namespace wise::reference
