// WISE's test-time refinement (see refinement.h).
#include "pseudo_masks/refinement.h"

#include <algorithm>

#include "kernels/check.h"
#include "kernels/cpu/parallel_for.h"
#include "kernels/mask_ops.h"
#include "proposals/packed_mask.h"

namespace wise::pseudo_masks {
namespace {

// A mask packed in column-major bits (proposals/packed_mask.h) with the words its
// foreground spans: [first_word, end_word), empty when the mask is.
struct SpannedMask {
  proposals::PackedMask packed;
  int64_t area = 0;
  int64_t first_word = 0, end_word = 0;
};

SpannedMask spanned(const data::Rle& rle) {
  SpannedMask mask{proposals::packed_from_rle(rle)};
  mask.area = proposals::packed_area(mask.packed);
  const std::vector<uint64_t>& words = mask.packed.words;
  const auto first = std::find_if(words.begin(), words.end(), [](uint64_t word) { return word != 0; });
  if (first == words.end()) return mask;
  const auto last = std::find_if(words.rbegin(), words.rend(), [](uint64_t word) { return word != 0; });
  mask.first_word = first - words.begin();
  mask.end_word = static_cast<int64_t>(words.size()) - (last - words.rbegin());
  return mask;
}

// IoU(a, b) as kernels/mask_ops.h's mask_iou computes it (the same counts, the same
// division), with |a & b| read only over the words both foregrounds span: the bits outside
// are zero in one of the two. An object's mask spans a few of the image's columns, so a
// pair costs those columns' words, and a pair whose spans do not meet costs nothing.
float spanned_iou(const SpannedMask& a, const SpannedMask& b) {
  const int64_t begin = std::max(a.first_word, b.first_word), end = std::min(a.end_word, b.end_word);
  const int64_t intersection =
      begin < end ? kernels::mask_intersection(a.packed.words.data() + begin, b.packed.words.data() + begin, end - begin)
                  : 0;
  return kernels::mask_iou_from_counts(intersection, a.area, b.area);
}

}  // namespace

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
  std::vector<SpannedMask> predicted, candidate_masks;
  for (const data::Detection& detection : detections) {
    WISE_CHECK(detection.segmentation.height == first.height && detection.segmentation.width == first.width,
               "refine_detections: image ", detection.image_id, ": a detection's mask is ",
               detection.segmentation.height, " x ", detection.segmentation.width, ", its proposals' ", first.height,
               " x ", first.width);
    predicted.push_back(spanned(detection.segmentation));
  }
  for (const proposals::Proposal* proposal : candidates) candidate_masks.push_back(spanned(proposal->mask));

  // G* for each detection: the first candidate of the highest IoU.
  std::vector<size_t> best(refined.size(), 0);
  std::vector<float> best_iou(refined.size(), 0.0f);
  kernels::cpu::parallel_for(
      static_cast<int64_t>(refined.size()),
      [&](int64_t i) {
        float top = spanned_iou(predicted[static_cast<size_t>(i)], candidate_masks[0]);
        size_t choice = 0;
        for (size_t j = 1; j < candidate_masks.size(); ++j) {
          const float iou = spanned_iou(predicted[static_cast<size_t>(i)], candidate_masks[j]);
          if (iou > top) {  // strict: the first of equals
            top = iou;
            choice = j;
          }
        }
        best[static_cast<size_t>(i)] = choice;
        best_iou[static_cast<size_t>(i)] = top;
      },
      /*work_per_index=*/static_cast<int64_t>(candidate_masks.size()) * 64);
  for (size_t i = 0; i < refined.size(); ++i) {
    if (!(best_iou[i] > 0)) continue;
    refined[i].segmentation = candidates[best[i]]->mask;
    refined[i].bbox = candidates[best[i]]->box;
    if (counts != nullptr) {
      ++counts->replaced;
      counts->iou_sum += best_iou[i];
    }
  }
  return refined;
}

}  // namespace wise::pseudo_masks
