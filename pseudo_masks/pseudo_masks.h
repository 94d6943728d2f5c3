// WISE's pseudo masks (Laradji et al., Sec. 3.1, Eq. 1): a PRM classifier's peaks pick
// mask proposals, which become the instance masks Mask R-CNN trains on.
//
// For one training image, each class in its image-level label and each peak (i, j) of
// that class:
//   P = {(G_1, b_1), ..., (G_n, b_n)}: the proposals whose mask G_k contains pixel (i, j),
//       b_k their objectness in (0, 1];
//   sample (the paper, the default):  pick G_k with P(G_k) = b_k / sum_j b_j   (Eq. 1)
//   best   (WISE's released code):    pick the highest b_k (the list's first: proposal
//                                     lists are sorted by objectness, proposals/proposal.h)
// and label the pick with the peak's class. A peak no proposal contains gives nothing
// (counted); a (class, proposal) pair picked by two peaks is one pseudo mask (the first
// peak's; counted as a duplicate). Why sample: proposals containing a peak share the
// object's salient pixels, so drawing among them by objectness lets Mask R-CNN see each
// object's plausible extents across epochs of images instead of one fixed guess (the
// paper's de-noising argument).
//
// A caller may weight the candidates (train_prm's `--pseudo-weighting class_map`: by how much
// of each its class's response map supports, train/class_map_support.h): sample then draws
// with P(G_k) proportional to b_k w_k and best takes the largest b_k w_k. A weighted-zero
// candidate is never picked, unless all of a peak's are, when Eq. 1's b_k alone decide.
//
// Randomness: the draw of peak p of image `image_id` is a pure function of (seed,
// image_id, p): Philox (kernels/philox.h) at counter image_id * 2^20 + p, 53 uniform bits.
// So a shard, a thread count or the order images are processed in never changes a pseudo
// mask, and `--seed` is the only knob.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "proposals/proposal.h"

namespace wise::pseudo_masks {

enum class Selection { sample, best };

// "sample" / "best", and the inverse (throws std::invalid_argument naming the value and
// the choices).
const char* selection_name(Selection selection);
Selection parse_selection(const std::string& name);

struct PseudoMaskOptions {
  Selection selection = Selection::sample;
  uint64_t seed = 0;
};

// A peak of a class present in the image, in image pixels (row y, column x).
struct ClassPeak {
  int64_t category_id = 0;
  int64_t y = 0, x = 0;
};

struct PseudoMask {
  int64_t category_id = 0;
  size_t proposal = 0;     // index into the image's proposal list
  float objectness = 0;    // that proposal's b_k
  size_t peak = 0;         // index of the peak that picked it (the first, for duplicates)
};

struct ImagePseudoMasks {
  std::vector<PseudoMask> masks;       // in peak order
  int64_t peaks = 0;                   // peaks given
  int64_t peaks_without_proposal = 0;  // no proposal contains them
  int64_t duplicates = 0;              // picks of an already-picked (class, proposal)
};

// Eq. 1 on one peak's candidates: the index k with
//   sum_{j<k} b_j <= u sum_j b_j < sum_{j<=k} b_j
// for u in [0, 1) (an inverse-CDF draw, in double). objectness must be non-empty with
// every b_k > 0 (throws std::invalid_argument otherwise).
size_t sample_by_objectness(const std::vector<float>& objectness, double u);

// The uniform in [0, 1) that peak `peak` of image `image_id` draws with `seed` (see the
// header comment). image_id >= 0 and peak < 2^20 (checked).
double peak_uniform(uint64_t seed, int64_t image_id, size_t peak);

// w_k of candidate proposal k (an index into the image's list) for a peak: finite, >= 0.
using CandidateWeight = std::function<float(const ClassPeak& peak, size_t proposal)>;

// The pseudo masks of one image. proposals: the image's list (any order is accepted;
// `best` takes the highest objectness, the first of equals); peaks outside the image
// count as peaks without a proposal. `weight`, when given, weights the candidates (above).
ImagePseudoMasks pseudo_masks_for_image(int64_t image_id, const std::vector<proposals::Proposal>& proposals,
                                        const std::vector<ClassPeak>& peaks, const PseudoMaskOptions& options,
                                        const CandidateWeight& weight = nullptr);

}  // namespace wise::pseudo_masks
