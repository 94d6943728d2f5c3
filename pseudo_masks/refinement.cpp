// WISE's test-time refinement (see refinement.h).
#include "pseudo_masks/refinement.h"

#include "kernels/check.h"
#include "nn/masks.h"
#include "proposals/packed_mask.h"

namespace wise::pseudo_masks {

std::vector<data::Detection> refine_detections(const std::vector<data::Detection>& detections,
                                               const std::vector<proposals::Proposal>& proposals,
                                               const RefinementOptions& options, RefinementCounts* counts) {
  std::vector<data::Detection> refined = detections;
  if (counts != nullptr) counts->detections += static_cast<int64_t>(detections.size());
  std::vector<const proposals::Proposal*> candidates;
  for (const proposals::Proposal& proposal : proposals) {
    if (proposal.objectness > options.min_objectness) candidates.push_back(&proposal);
  }
  if (detections.empty() || candidates.empty()) return refined;

  const data::Rle& first = candidates.front()->mask;
  std::vector<proposals::PackedMask> predicted, candidate_masks;
  for (const data::Detection& detection : detections) {
    WISE_CHECK(detection.segmentation.height == first.height && detection.segmentation.width == first.width,
               "refine_detections: image ", detection.image_id, ": a detection's mask is ",
               detection.segmentation.height, " x ", detection.segmentation.width, ", its proposals' ", first.height,
               " x ", first.width);
    predicted.push_back(proposals::packed_from_rle(detection.segmentation));
  }
  for (const proposals::Proposal* proposal : candidates) candidate_masks.push_back(proposals::packed_from_rle(proposal->mask));
  Tensor predicted_packed, predicted_areas, candidate_packed, candidate_areas, iou;
  proposals::masks_to_packed_tensor(predicted, predicted_packed, predicted_areas);
  proposals::masks_to_packed_tensor(candidate_masks, candidate_packed, candidate_areas);
  mask_iou_packed(predicted_packed, predicted_areas, candidate_packed, candidate_areas, iou);

  const size_t n = candidates.size();
  const float* values = iou.data<float>();
  for (size_t i = 0; i < refined.size(); ++i) {
    size_t best = 0;
    for (size_t j = 1; j < n; ++j) {
      if (values[i * n + j] > values[i * n + best]) best = j;  // strict: the first of equals
    }
    const float best_iou = values[i * n + best];
    if (!(best_iou > 0)) continue;
    refined[i].segmentation = candidates[best]->mask;
    refined[i].bbox = candidates[best]->box;
    if (counts != nullptr) {
      ++counts->replaced;
      counts->iou_sum += best_iou;
    }
  }
  return refined;
}

}  // namespace wise::pseudo_masks
