// ABO and recall of proposals (see proposal_quality.h).
#include "proposals/proposal_quality.h"

#include <algorithm>
#include <cstdio>

#include "nn/masks.h"
#include "proposals/packed_mask.h"

namespace wise::proposals {

std::vector<std::array<float, 3>> best_ious(const std::vector<data::Rle>& ground_truth,
                                            const std::vector<Proposal>& proposals) {
  std::vector<std::array<float, 3>> best(ground_truth.size(), std::array<float, 3>{0, 0, 0});
  if (ground_truth.empty() || proposals.empty()) return best;
  std::vector<PackedMask> truth, candidates;
  for (const data::Rle& rle : ground_truth) truth.push_back(packed_from_rle(rle));
  for (const Proposal& proposal : proposals) candidates.push_back(packed_from_rle(proposal.mask));
  Tensor truth_packed, truth_areas, candidate_packed, candidate_areas, iou;
  masks_to_packed_tensor(truth, truth_packed, truth_areas);
  masks_to_packed_tensor(candidates, candidate_packed, candidate_areas);
  mask_iou_packed(truth_packed, truth_areas, candidate_packed, candidate_areas, iou);
  const int64_t n = static_cast<int64_t>(proposals.size());
  const float* values = iou.data<float>();
  for (size_t i = 0; i < ground_truth.size(); ++i) {
    float running = 0;
    for (int64_t j = 0; j < n; ++j) {
      running = std::max(running, values[static_cast<int64_t>(i) * n + j]);
      for (size_t t = 0; t < kQualityTops.size(); ++t) {
        if (j + 1 == kQualityTops[t]) best[i][t] = running;
      }
    }
    // Tops beyond the list (and "all") see every proposal.
    for (size_t t = 0; t < kQualityTops.size(); ++t) {
      if (kQualityTops[t] == 0 || kQualityTops[t] > n) best[i][t] = running;
    }
  }
  return best;
}

void ProposalQuality::add_image(const std::vector<std::array<float, 3>>& best, int64_t proposal_count) {
  ++images;
  proposals += proposal_count;
  for (const auto& instance : best) {
    ++instances;
    for (size_t t = 0; t < instance.size(); ++t) {
      abo[t] += instance[t];
      recall_50[t] += instance[t] >= 0.5f;
      recall_70[t] += instance[t] >= 0.7f;
    }
  }
}

void ProposalQuality::finish() {
  const double count = instances > 0 ? static_cast<double>(instances) : 1.0;
  for (size_t t = 0; t < abo.size(); ++t) {
    abo[t] /= count;
    recall_50[t] /= count;
    recall_70[t] /= count;
  }
}

std::string format_quality_table(const ProposalQuality& quality, const std::string& title) {
  std::string text = title + "\n";
  char line[160];
  std::snprintf(line, sizeof line, "%lld images, %lld instances, %.1f proposals per image\n",
                static_cast<long long>(quality.images), static_cast<long long>(quality.instances),
                quality.images > 0 ? static_cast<double>(quality.proposals) / static_cast<double>(quality.images) : 0.0);
  text += line;
  text += "| proposals | ABO | recall@0.5 | recall@0.7 |\n|---|---|---|---|\n";
  for (size_t t = 0; t < kQualityTops.size(); ++t) {
    const std::string top = kQualityTops[t] == 0 ? "all" : "top " + std::to_string(kQualityTops[t]);
    std::snprintf(line, sizeof line, "| %s | %.3f | %.3f | %.3f |\n", top.c_str(), quality.abo[t],
                  quality.recall_50[t], quality.recall_70[t]);
    text += line;
  }
  if (quality.computed_images > 0) {
    std::snprintf(line, sizeof line, "%.1f ms per image (%lld computed, %lld from the cache)\n",
                  quality.milliseconds / static_cast<double>(quality.computed_images),
                  static_cast<long long>(quality.computed_images),
                  static_cast<long long>(quality.images - quality.computed_images));
  } else {
    std::snprintf(line, sizeof line, "all %lld images from the cache or precomputed files\n",
                  static_cast<long long>(quality.images));
  }
  text += line;
  return text;
}

}  // namespace wise::proposals
