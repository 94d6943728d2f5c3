// Mask-target reference (see mask_target_reference.h): for each output cell, the mean of
// a grid of bilinear samples of the mask, every step in double.
#include "tests/reference/mask_target_reference.h"

#include <algorithm>
#include <cmath>

namespace wise::reference {

namespace {

// The mask's value at (y, x) by bilinear interpolation, RoIAlign's border rule: 0 outside
// [-1, H] x [-1, W]; coordinates below 0 read row/column 0; at or past the last
// row/column the sample is that row/column.
double sample_mask(const uint8_t* mask, int64_t H, int64_t W, double y, double x) {
  if (y < -1.0 || y > static_cast<double>(H) || x < -1.0 || x > static_cast<double>(W)) return 0.0;
  y = std::max(y, 0.0);
  x = std::max(x, 0.0);
  int64_t top = static_cast<int64_t>(std::floor(y)), left = static_cast<int64_t>(std::floor(x));
  int64_t bottom = top + 1, right = left + 1;
  if (top >= H - 1) {
    top = bottom = H - 1;
    y = static_cast<double>(top);
  }
  if (left >= W - 1) {
    left = right = W - 1;
    x = static_cast<double>(left);
  }
  const double fy = y - static_cast<double>(top), fx = x - static_cast<double>(left);
  const auto at = [&](int64_t row, int64_t column) {
    return static_cast<double>(mask[row * W + column]);
  };
  return (1.0 - fy) * ((1.0 - fx) * at(top, left) + fx * at(top, right)) +
         fy * ((1.0 - fx) * at(bottom, left) + fx * at(bottom, right));
}

}  // namespace

std::vector<double> project_masks_on_boxes(const std::vector<uint8_t>& gt_masks, int64_t G,
                                           int64_t H, int64_t W, const std::vector<float>& boxes,
                                           const std::vector<int64_t>& matched_idxs, int64_t M) {
  const int64_t K = static_cast<int64_t>(matched_idxs.size());
  std::vector<double> targets(static_cast<size_t>(K * M * M), 0.0);
  for (int64_t k = 0; k < K; ++k) {
    const int64_t g = matched_idxs[static_cast<size_t>(k)];
    if (g < 0 || g >= G) continue;
    const uint8_t* mask = gt_masks.data() + g * H * W;
    const double x1 = boxes[static_cast<size_t>(4 * k)], y1 = boxes[static_cast<size_t>(4 * k + 1)];
    // Legacy RoIAlign: a box is at least one pixel on each side.
    const double width = std::max(boxes[static_cast<size_t>(4 * k + 2)] - x1, 1.0);
    const double height = std::max(boxes[static_cast<size_t>(4 * k + 3)] - y1, 1.0);
    const double cell_w = width / static_cast<double>(M), cell_h = height / static_cast<double>(M);
    // Adaptive sampling: ceil(box side / M) samples per cell along each axis.
    const int64_t samples_x = static_cast<int64_t>(std::ceil(cell_w));
    const int64_t samples_y = static_cast<int64_t>(std::ceil(cell_h));
    for (int64_t row = 0; row < M; ++row) {
      for (int64_t column = 0; column < M; ++column) {
        double total = 0.0;
        for (int64_t sy = 0; sy < samples_y; ++sy) {
          const double y = y1 + cell_h * (static_cast<double>(row) +
                                          (static_cast<double>(sy) + 0.5) / samples_y);
          for (int64_t sx = 0; sx < samples_x; ++sx) {
            const double x = x1 + cell_w * (static_cast<double>(column) +
                                            (static_cast<double>(sx) + 0.5) / samples_x);
            total += sample_mask(mask, H, W, y, x);
          }
        }
        targets[static_cast<size_t>((k * M + row) * M + column)] =
            total / static_cast<double>(samples_x * samples_y);
      }
    }
  }
  return targets;
}

}  // namespace wise::reference
