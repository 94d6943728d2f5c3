#include "pseudo_masks/pseudo_masks.h"

#include <cmath>
#include <set>
#include <stdexcept>
#include <utility>

#include "kernels/philox.h"

namespace wise::pseudo_masks {

const char* selection_name(Selection selection) {
  return selection == Selection::sample ? "sample" : "best";
}

Selection parse_selection(const std::string& name) {
  if (name == "sample") return Selection::sample;
  if (name == "best") return Selection::best;
  throw std::invalid_argument("pseudo-mask selection '" + name + "': expected sample (WISE Eq. 1) or best");
}

size_t sample_by_objectness(const std::vector<float>& objectness, double u) {
  if (objectness.empty()) throw std::invalid_argument("sample_by_objectness: no candidate proposals");
  double total = 0;
  for (float b : objectness) {
    if (!(b > 0)) throw std::invalid_argument("sample_by_objectness: objectness must be > 0, got " + std::to_string(b));
    total += b;
  }
  // WISE Eq. 1: P(G_k) = b_k / sum_j b_j, by the inverse CDF.
  const double target = u * total;
  double cumulative = 0;
  for (size_t k = 0; k < objectness.size(); ++k) {
    cumulative += objectness[k];
    if (target < cumulative) return k;
  }
  return objectness.size() - 1;  // u * total rounded up to the total
}

double peak_uniform(uint64_t seed, int64_t image_id, size_t peak) {
  constexpr uint64_t kPeaksPerImage = uint64_t{1} << 20;
  if (image_id < 0) throw std::invalid_argument("peak_uniform: image id must be >= 0, got " + std::to_string(image_id));
  if (peak >= kPeaksPerImage) throw std::invalid_argument("peak_uniform: at most 2^20 peaks per image");
  const kernels::PhiloxBlock bits =
      kernels::philox_random(seed, static_cast<uint64_t>(image_id) * kPeaksPerImage + peak);
  return kernels::uniform53_from_bits(bits.x[0], bits.x[1]);
}

namespace {

// Whether pixel (y, x) is foreground: COCO's runs are column-major, zeros first.
bool rle_contains(const data::Rle& rle, int64_t y, int64_t x) {
  if (y < 0 || x < 0 || y >= rle.height || x >= rle.width) return false;
  const int64_t pixel = x * rle.height + y;
  int64_t start = 0;
  for (size_t run = 0; run < rle.counts.size(); ++run) {
    start += rle.counts[run];
    if (pixel < start) return run % 2 == 1;
  }
  return false;
}

}  // namespace

ImagePseudoMasks pseudo_masks_for_image(int64_t image_id, const std::vector<proposals::Proposal>& proposals,
                                        const std::vector<ClassPeak>& peaks, const PseudoMaskOptions& options,
                                        const CandidateWeight& weight) {
  ImagePseudoMasks out;
  out.peaks = static_cast<int64_t>(peaks.size());
  std::set<std::pair<int64_t, size_t>> picked;  // (category, proposal)
  std::vector<size_t> candidates;
  std::vector<float> objectness;
  for (size_t p = 0; p < peaks.size(); ++p) {
    const ClassPeak& peak = peaks[p];
    candidates.clear();
    objectness.clear();
    for (size_t k = 0; k < proposals.size(); ++k) {
      if (rle_contains(proposals[k].mask, peak.y, peak.x)) {
        candidates.push_back(k);
        objectness.push_back(proposals[k].objectness);
      }
    }
    if (candidates.empty()) {
      ++out.peaks_without_proposal;
      continue;
    }
    if (weight) {
      // b_k w_k; candidates weighing 0 drop out unless all do.
      std::vector<size_t> kept;
      std::vector<float> weighted;
      for (size_t i = 0; i < candidates.size(); ++i) {
        const float w = weight(peak, candidates[i]);
        if (!(w >= 0.0f) || !std::isfinite(w)) {
          throw std::invalid_argument("pseudo_masks_for_image: candidate weight must be finite and >= 0, got " +
                                      std::to_string(w));
        }
        if (objectness[i] * w > 0.0f) {
          kept.push_back(candidates[i]);
          weighted.push_back(objectness[i] * w);
        }
      }
      if (!kept.empty()) {
        candidates.swap(kept);
        objectness.swap(weighted);
      }
    }
    size_t choice = 0;
    if (options.selection == Selection::sample) {
      choice = sample_by_objectness(objectness, peak_uniform(options.seed, image_id, p));
    } else {
      for (size_t k = 1; k < candidates.size(); ++k)
        if (objectness[k] > objectness[choice]) choice = k;
    }
    const size_t proposal = candidates[choice];
    if (!picked.insert({peak.category_id, proposal}).second) {
      ++out.duplicates;
      continue;
    }
    out.masks.push_back({peak.category_id, proposal, proposals[proposal].objectness, p});
  }
  return out;
}

}  // namespace wise::pseudo_masks
