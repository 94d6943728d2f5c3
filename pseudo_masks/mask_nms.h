// Greedy mask non-maximum suppression: of masks in ranking order (best first), keep one
// iff its IoU with every mask kept before it is < threshold. PRM's instance_nms (without
// merging response maps), used by the PRM baseline's retrieval (peak_retrieval.h) and by
// the pseudo-mask step's optional per-class suppression (train/pseudo_mask_step.h). IoU
// is nn/masks.h's, the project's one mask IoU.
#pragma once

#include <cstddef>
#include <vector>

#include "data/rle.h"

namespace wise::pseudo_masks {

// The indices into `ranked` of the kept masks, ascending. Masks must share one size
// (throws std::invalid_argument otherwise). A threshold above 1 keeps every mask; one
// <= 0 only the first.
std::vector<size_t> greedy_mask_nms(const std::vector<const data::Rle*>& ranked, double threshold);

}  // namespace wise::pseudo_masks
