// WISE's optional refinement at test time (Laradji et al., Sec. 3.3 and Fig. 3): each mask
// Mask R-CNN predicts is replaced by the object proposal of highest Jaccard similarity
// (IoU) with it, so the output inherits the proposals' boundaries, which follow image
// edges, while Mask R-CNN decides where the objects are, which class and how sure.
//
// For one image's detections and its proposals (proposals/proposal.h, sorted by
// objectness descending):
//   candidates = the proposals with objectness > min_objectness (WISE's released code keeps
//                those scoring > 0.75, a threshold for SharpMask's scores; 0, the default,
//                keeps every proposal, the paper's rule)
//   for each detection d: G* = argmax_G IoU(mask(d), G) over the candidates (the first of
//                equals, in list order: the higher objectness); if IoU(mask(d), G*) > 0,
//                mask(d) = G* and box(d) = G*'s box, else d is kept as it was (an empty
//                predicted mask, or one no candidate overlaps)
// Scores, classes and the order of the detections never change. IoU is the project's one
// mask IoU (kernels/mask_ops.h's counts and division: pycocotools' maskUtils.iou), its
// intersection read over only the words both masks' foregrounds span (refinement.cpp).
#pragma once

#include <cstdint>
#include <vector>

#include "data/dataset.h"
#include "proposals/proposal.h"

namespace wise::pseudo_masks {

struct RefinementOptions {
  float min_objectness = 0;  // proposals scoring <= this are not candidates (released code: 0.75)
};

struct RefinementCounts {
  int64_t detections = 0;
  int64_t replaced = 0;      // masks swapped for a proposal
  double iou_sum = 0;        // of the replaced masks with their proposals
};

// `detections` are one image's, each mask of the proposals' size (checked, naming the
// image); returns them refined, in the same order, and adds to `counts` if given.
std::vector<data::Detection> refine_detections(const std::vector<data::Detection>& detections,
                                               const std::vector<proposals::Proposal>& proposals,
                                               const RefinementOptions& options = {},
                                               RefinementCounts* counts = nullptr);

}  // namespace wise::pseudo_masks
