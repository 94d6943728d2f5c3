// Anchor / proposal to ground-truth matching and balanced sampling, as torchvision 0.14's
// detection/_utils.py Matcher and BalancedPositiveNegativeSampler (Ren et al. 2015).
//
// Matcher, from the IoU matrix iou (G ground truths x P proposals):
//
//   best[p]   = argmax_g iou[g, p]       (torch's max(dim=0): the first maximum; a NaN is
//                                         the maximum, its first occurrence wins)
//   match[p]  = -1 (BELOW_LOW_THRESHOLD)  when iou[best, p] <  low
//             = -2 (BETWEEN_THRESHOLDS)   when low <= iou[best, p] < high
//             = best                      otherwise (NaN: neither comparison holds)
//   allow_low_quality_matches: highest[g] = max_p iou[g, p] (NaN if any is NaN), and every
//   p with iou[g, p] == highest[g] for some g gets match[p] = best[p] back (torchvision's
//   set_low_quality_matches_: the proposal's own best gt, not necessarily g).
//
// Both passes are gathers (one element per gt row, then one per proposal): deterministic,
// identical on every device and thread count.
//
// Sampler: positives are labels >= 1, negatives labels == 0 (-1 and others are ignored).
// It keeps min(#positives, floor(batch_size_per_image * positive_fraction)) positives and
// min(#negatives, batch_size_per_image - kept positives) negatives, each chosen uniformly
// without replacement. torchvision draws with torch.randperm, which no other library can
// reproduce; here each candidate gets a Philox key (seed, offset + i) in [0, 1) and the
// candidates with the largest keys win (a stable sort: ties by index), so a seed gives
// the same subset on every device and thread count.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/device.h"
#include "kernels/host_device.h"

namespace wise::kernels {

inline constexpr int64_t kBelowLowThreshold = -1;
inline constexpr int64_t kBetweenThresholds = -2;

// highest[g] = max over the P proposals of iou[g, :] (NaN if any is NaN); -inf for P = 0.
WISE_HD inline void matcher_highest_element(int64_t g, const float* iou, int64_t num_proposals,
                                            float* highest) {
  const float* row = iou + g * num_proposals;
  float best = num_proposals > 0 ? row[0] : -INFINITY;
  for (int64_t p = 1; p < num_proposals && !(best != best); ++p) {
    if (!(row[p] <= best)) best = row[p];  // a NaN takes over and stops the scan
  }
  highest[g] = best;
}

// matches[p] for proposal p (see the header comment). highest may be null when
// allow_low_quality_matches is false.
WISE_HD inline void matcher_match_element(int64_t p, const float* iou, int64_t num_gt,
                                          int64_t num_proposals, float low_threshold,
                                          float high_threshold, const float* highest,
                                          int64_t* matches) {
  if (num_gt == 0) {
    matches[p] = kBelowLowThreshold;
    return;
  }
  int64_t best = 0;
  float value = iou[p];
  for (int64_t g = 1; g < num_gt && !(value != value); ++g) {
    const float candidate = iou[g * num_proposals + p];
    if (!(candidate <= value)) {  // strictly greater, or NaN: the first maximum wins ties
      value = candidate;
      best = g;
    }
  }
  int64_t match = best;
  if (value < low_threshold) {
    match = kBelowLowThreshold;
  } else if (value >= low_threshold && value < high_threshold) {
    match = kBetweenThresholds;
  }
  if (highest != nullptr && match < 0) {
    for (int64_t g = 0; g < num_gt; ++g) {
      if (iou[g * num_proposals + p] == highest[g]) {
        match = best;
        break;
      }
    }
  }
  matches[p] = match;
}

// ---- Launchers (kernels/matcher.cu) ----------------------------------------------------

// matches (P) from iou (G, P); workspace: G floats on `device` (used when allow_low_quality).
void match_proposals(Device device, const float* iou, int64_t num_gt, int64_t num_proposals,
                     float low_threshold, float high_threshold, bool allow_low_quality_matches,
                     float* workspace, int64_t* matches);

struct SamplerWorkspace {
  float* keys = nullptr;       // n
  int64_t* order = nullptr;    // n
  int64_t* counts = nullptr;   // n
};

struct SampledCounts {
  int64_t positives = 0;  // kept
  int64_t negatives = 0;
};

// positive_mask, negative_mask (n, uint8) = the sampled subsets of labels (n, int64).
// Uses Philox positions [offset, offset + 2n): positives' keys at offset + i, negatives'
// at offset + n + i.
SampledCounts sample_positive_negative(Device device, const int64_t* labels, int64_t n,
                                       int64_t batch_size_per_image, double positive_fraction,
                                       uint64_t seed, uint64_t offset, SamplerWorkspace workspace,
                                       uint8_t* positive_mask, uint8_t* negative_mask);

}  // namespace wise::kernels
