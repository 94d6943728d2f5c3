// Naive references for anchors, the matcher and the sampler (see anchor_reference.h).
#include "tests/reference/anchor_reference.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace wise::reference {

std::vector<double> cell_anchors(const std::vector<float>& sizes,
                                 const std::vector<float>& aspect_ratios) {
  std::vector<double> cells;
  for (float ratio : aspect_ratios) {
    for (float size : sizes) {
      const double h = double(size) * std::sqrt(double(ratio));
      const double w = double(size) / std::sqrt(double(ratio));
      // std::nearbyint under the default FE_TONEAREST: half to even, as torch.round.
      for (double v : {-w / 2.0, -h / 2.0, w / 2.0, h / 2.0}) cells.push_back(std::nearbyint(v));
    }
  }
  return cells;
}

std::vector<double> grid_anchors(int64_t image_height, int64_t image_width,
                                 const std::vector<AnchorLevel>& levels) {
  std::vector<double> anchors;
  for (const AnchorLevel& level : levels) {
    const std::vector<double> cells = cell_anchors(level.sizes, level.aspect_ratios);
    const int64_t stride_y = image_height / level.height, stride_x = image_width / level.width;
    for (int64_t y = 0; y < level.height; ++y) {
      for (int64_t x = 0; x < level.width; ++x) {
        const double shift[4] = {double(x * stride_x), double(y * stride_y),
                                 double(x * stride_x), double(y * stride_y)};
        for (size_t c = 0; c < cells.size(); ++c) anchors.push_back(cells[c] + shift[c % 4]);
      }
    }
  }
  return anchors;
}

std::vector<int64_t> match(const std::vector<float>& iou, int64_t num_gt, int64_t num_proposals,
                           float high_threshold, float low_threshold, bool allow_low_quality) {
  std::vector<int64_t> matches(static_cast<size_t>(num_proposals), -1);
  if (num_gt == 0) return matches;
  auto at = [&](int64_t g, int64_t p) { return iou[static_cast<size_t>(g * num_proposals + p)]; };
  std::vector<int64_t> all_matches(matches.size());
  for (int64_t p = 0; p < num_proposals; ++p) {
    // torch.max(dim=0): the first NaN if any, else the first maximum.
    int64_t best = -1;
    for (int64_t g = 0; g < num_gt && best < 0; ++g) {
      if (std::isnan(at(g, p))) best = g;
    }
    if (best < 0) {
      best = 0;
      for (int64_t g = 1; g < num_gt; ++g) {
        if (at(g, p) > at(best, p)) best = g;
      }
    }
    const float value = at(best, p);
    all_matches[p] = best;
    matches[p] = best;
    if (value < low_threshold) matches[p] = -1;
    if (value >= low_threshold && value < high_threshold) matches[p] = -2;
  }
  if (allow_low_quality) {
    for (int64_t g = 0; g < num_gt; ++g) {
      float highest = -std::numeric_limits<float>::infinity();
      bool has_nan = false;
      for (int64_t p = 0; p < num_proposals; ++p) {
        has_nan = has_nan || std::isnan(at(g, p));
        if (at(g, p) > highest) highest = at(g, p);
      }
      if (has_nan) continue;  // max is NaN, and NaN equals nothing
      for (int64_t p = 0; p < num_proposals; ++p) {
        if (at(g, p) == highest) matches[p] = all_matches[p];
      }
    }
  }
  return matches;
}

std::vector<uint8_t> sample_by_keys(const std::vector<int64_t>& labels,
                                    const std::vector<float>& keys, bool positives, int64_t limit) {
  std::vector<int64_t> candidates;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (positives ? labels[i] >= 1 : labels[i] == 0) candidates.push_back(int64_t(i));
  }
  std::stable_sort(candidates.begin(), candidates.end(),
                   [&](int64_t a, int64_t b) { return keys[a] > keys[b]; });
  std::vector<uint8_t> mask(labels.size(), 0);
  for (int64_t k = 0; k < std::min<int64_t>(limit, int64_t(candidates.size())); ++k) {
    mask[candidates[k]] = 1;
  }
  return mask;
}

}  // namespace wise::reference
