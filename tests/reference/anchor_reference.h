// Naive references for anchor generation, the proposal matcher and the balanced sampler,
// written from torchvision 0.14's documented semantics (AnchorGenerator, det_utils.Matcher,
// BalancedPositiveNegativeSampler) independently of kernels/anchors.h and
// kernels/matcher.h: host loops in double, torchvision's steps in its order (argmax
// column by column, then the thresholds, then the low-quality pass over (gt, proposal)
// pairs), and a sampler that sorts candidates with std::stable_sort.
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

// Cell anchors (A, 4), ratio-major, size-minor: round((-w, -h, w, h) / 2), half to even,
// w = size / sqrt(ratio), h = size * sqrt(ratio) (in double).
std::vector<double> cell_anchors(const std::vector<float>& sizes,
                                 const std::vector<float>& aspect_ratios);

struct AnchorLevel {
  int64_t height = 0, width = 0;
  std::vector<float> sizes, aspect_ratios;
};

// AnchorGenerator's anchors for one image of image_height x image_width: per level,
// per location (y-major), the cell anchors shifted by (x, y) * (image // feature).
std::vector<double> grid_anchors(int64_t image_height, int64_t image_width,
                                 const std::vector<AnchorLevel>& levels);

// Matcher(high, low, allow_low_quality_matches) on iou (num_gt x num_proposals, row-major);
// thresholds compared in float32 as torch does. All -1 when num_gt == 0.
std::vector<int64_t> match(const std::vector<float>& iou, int64_t num_gt, int64_t num_proposals,
                           float high_threshold, float low_threshold, bool allow_low_quality);

// The sampler's subset of one kind: among the candidates (labels >= 1 when positives,
// == 0 otherwise) the `limit` with the largest keys (ties by index), as a 0/1 mask.
// keys[i] is the key of element i (only read for candidates).
std::vector<uint8_t> sample_by_keys(const std::vector<int64_t>& labels,
                                    const std::vector<float>& keys, bool positives, int64_t limit);

}  // namespace wise::reference
