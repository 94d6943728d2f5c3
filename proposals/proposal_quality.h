// How well a proposal list covers the ground truth: the measures proposal papers report
// (Uijlings et al. 2013 Sec. 5.1 ABO and recall; MCG, SharpMask) and issue 21 asks for.
//
// For each ground-truth instance, best IoU = the largest mask IoU with any of the image's
// first `top` proposals (nn/masks.h's mask_iou_packed, the one mask-IoU function of wise;
// 0 when there are none). Over all instances of all images:
//   ABO          mean best IoU (class-agnostic, MCG's definition)
//   recall@t     share of instances whose best IoU >= t, t = 0.5 and 0.7
// each for the top 100, top 500 and all proposals (proposal lists are sorted by
// objectness, so "top" measures the score too). Crowd annotations are not instances.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/rle.h"
#include "proposals/proposal.h"

namespace wise::proposals {

constexpr std::array<int64_t, 3> kQualityTops{100, 500, 0};  // 0: all proposals

// best[i][t]: instance i's best IoU among the first kQualityTops[t] proposals.
std::vector<std::array<float, 3>> best_ious(const std::vector<data::Rle>& ground_truth,
                                            const std::vector<Proposal>& proposals);

struct ProposalQuality {
  int64_t images = 0;
  int64_t instances = 0;
  int64_t proposals = 0;  // summed over images
  std::array<double, 3> abo{}, recall_50{}, recall_70{};  // per kQualityTops entry
  double milliseconds = 0;  // summed time spent making proposals (cache hits cost ~0)
  int64_t computed_images = 0;  // images whose proposals were computed, not read

  // Adds one image's instances (best_ious of it) and proposal count.
  void add_image(const std::vector<std::array<float, 3>>& best, int64_t proposal_count);
  // Divides the sums (call once, after the last add_image).
  void finish();
};

// The table: one row per top, columns ABO, recall@0.5, recall@0.7; then proposals per
// image and ms per image over computed images. `title` heads it.
std::string format_quality_table(const ProposalQuality& quality, const std::string& title);

}  // namespace wise::proposals
