// Anchor / proposal to ground-truth matching and balanced positive/negative sampling on
// tensors, as torchvision 0.14's det_utils.Matcher and BalancedPositiveNegativeSampler
// (kernels/matcher.h holds the arithmetic and says exactly what each computes).
//
// One image at a time; everything runs on the device of its inputs. No backward.
//
// Zero ground truths: torchvision's Matcher raises, and its callers (RPN
// assign_targets_to_anchors, RoIHeads assign_targets_to_proposals) special-case empty
// targets by labelling everything background. Here match_proposals returns all
// BELOW_LOW_THRESHOLD (-1) for G = 0, which those callers map to background: the same
// labels without the special case. Zero proposals give an empty result.
#pragma once

#include <cstdint>

#include "kernels/matcher.h"
#include "nn/random.h"
#include "nn/tensor.h"

namespace wise {

inline constexpr int64_t kBelowLowThreshold = kernels::kBelowLowThreshold;  // -1
inline constexpr int64_t kBetweenThresholds = kernels::kBetweenThresholds;  // -2

struct MatcherOptions {
  double high_threshold = 0.7;  // compared in float32, as torch compares a float tensor
  double low_threshold = 0.3;   // with a Python float
  bool allow_low_quality_matches = true;
};

// torchvision's RPN matcher (fg_iou_thresh 0.7, bg_iou_thresh 0.3, low quality allowed)
// and RoI heads matcher (0.5, 0.5, not allowed).
inline MatcherOptions rpn_matcher_options() { return {0.7, 0.3, true}; }
inline MatcherOptions roi_heads_matcher_options() { return {0.5, 0.5, false}; }

// matches (P) int64 = Matcher(match_quality_matrix (G, P) float32): the matched gt index,
// -1 below low_threshold, -2 between the thresholds (see kernels/matcher.h).
void match_proposals(const Tensor& match_quality_matrix, const MatcherOptions& options,
                     Tensor& matches);

struct BalancedSamplerOptions {
  int64_t batch_size_per_image = 256;  // RPN 256, RoI heads 512
  double positive_fraction = 0.5;      // RPN 0.5, RoI heads 0.25
};

// positive_mask, negative_mask (N) uint8 = BalancedPositiveNegativeSampler on labels (N)
// int64 (positive >= 1, negative == 0, others ignored): 1 marks a sampled element. The
// subsets are drawn from `generator` (2N Philox positions; generator.offset advances by
// 2N), the same on every device and thread count, but not torch.randperm's.
void balanced_positive_negative_sample(const Tensor& labels, const BalancedSamplerOptions& options,
                                       Generator& generator, Tensor& positive_mask,
                                       Tensor& negative_mask);

}  // namespace wise
