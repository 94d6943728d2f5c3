// WISE Eq. 1 (pseudo_masks/pseudo_masks.h): the sampling frequencies against
// P(G_k) = b_k / sum_j b_j (a chi-square test at a fixed seed), `best`, duplicates,
// peaks no proposal contains, and the draw's independence from processing order.
#include "pseudo_masks/pseudo_masks.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <stdexcept>
#include <vector>

#include "data/rle.h"
#include "tests/support/errors.h"

namespace wise::pseudo_masks {
namespace {

// A proposal covering rows [y0, y1) x columns [x0, x1) of a height x width image.
proposals::Proposal box_proposal(int64_t height, int64_t width, int64_t y0, int64_t y1, int64_t x0, int64_t x1,
                                 float objectness) {
  std::vector<uint8_t> pixels(static_cast<size_t>(height * width), 0);
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t x = x0; x < x1; ++x) pixels[static_cast<size_t>(y * width + x)] = 1;
  proposals::Proposal proposal;
  proposal.mask = data::rle_encode(pixels, height, width);
  proposal.objectness = objectness;
  proposal.box = data::rle_to_bbox(proposal.mask);
  return proposal;
}

TEST(PseudoMasks, SampleFrequenciesFollowEquationOne) {
  // Three nested proposals hold pixel (5, 5), a fourth does not: it must never be drawn.
  const std::vector<proposals::Proposal> proposals = {
      box_proposal(16, 16, 0, 16, 0, 16, 0.6f), box_proposal(16, 16, 2, 10, 2, 10, 0.3f),
      box_proposal(16, 16, 4, 7, 4, 7, 0.1f), box_proposal(16, 16, 10, 16, 10, 16, 0.9f)};
  const std::vector<ClassPeak> peaks = {{3, 5, 5}};
  PseudoMaskOptions options;
  options.seed = 20261202;
  constexpr int kImages = 30000;
  std::map<size_t, int> counts;
  for (int image = 0; image < kImages; ++image) {
    const ImagePseudoMasks result = pseudo_masks_for_image(image, proposals, peaks, options);
    ASSERT_EQ(result.masks.size(), 1u);
    EXPECT_EQ(result.masks[0].category_id, 3);
    ++counts[result.masks[0].proposal];
  }
  EXPECT_EQ(counts.count(3), 0u) << "a proposal not containing the peak was drawn";
  // Pearson's chi-square with 2 degrees of freedom; 13.82 is its 0.999 quantile, so a
  // correct sampler fails this (at some other seed) once in a thousand.
  const double expected[3] = {0.6, 0.3, 0.1};
  double chi_square = 0;
  for (size_t k = 0; k < 3; ++k) {
    const double e = expected[k] * kImages;
    chi_square += (counts[k] - e) * (counts[k] - e) / e;
  }
  EXPECT_LT(chi_square, 13.82) << "counts " << counts[0] << " " << counts[1] << " " << counts[2];
  // And it is a real draw: each candidate is taken a fair share of the time.
  EXPECT_GT(counts[2], 0.08 * kImages);
}

TEST(PseudoMasks, BestTakesTheHighestObjectnessFirstOfEquals) {
  const std::vector<proposals::Proposal> proposals = {
      box_proposal(8, 8, 0, 8, 0, 8, 0.2f), box_proposal(8, 8, 0, 4, 0, 4, 0.7f),
      box_proposal(8, 8, 1, 4, 1, 4, 0.7f), box_proposal(8, 8, 4, 8, 4, 8, 0.9f)};
  PseudoMaskOptions options;
  options.selection = Selection::best;
  const ImagePseudoMasks result = pseudo_masks_for_image(7, proposals, {{1, 2, 2}, {2, 6, 6}}, options);
  ASSERT_EQ(result.masks.size(), 2u);
  EXPECT_EQ(result.masks[0].proposal, 1u);  // 0.7 beats 0.2; of the two 0.7s the first
  EXPECT_EQ(result.masks[1].proposal, 3u);
  EXPECT_FLOAT_EQ(result.masks[1].objectness, 0.9f);
}

TEST(PseudoMasks, WeightedSampleFollowsObjectnessTimesWeight) {
  // The first test's three candidates, weighted 0.5, 1 and 4: P ~ 0.3, 0.3, 0.4.
  const std::vector<proposals::Proposal> proposals = {
      box_proposal(16, 16, 0, 16, 0, 16, 0.6f), box_proposal(16, 16, 2, 10, 2, 10, 0.3f),
      box_proposal(16, 16, 4, 7, 4, 7, 0.1f)};
  const std::vector<float> weights = {0.5f, 1.0f, 4.0f};
  const CandidateWeight weight = [&](const ClassPeak& peak, size_t proposal) {
    EXPECT_EQ(peak.category_id, 3);
    return weights[proposal];
  };
  PseudoMaskOptions options;
  options.seed = 7;
  constexpr int kImages = 30000;
  std::map<size_t, int> counts;
  for (int image = 0; image < kImages; ++image) {
    ++counts[pseudo_masks_for_image(image, proposals, {{3, 5, 5}}, options, weight).masks.at(0).proposal];
  }
  const double expected[3] = {0.3, 0.3, 0.4};
  double chi_square = 0;
  for (size_t k = 0; k < 3; ++k) {
    const double e = expected[k] * kImages;
    chi_square += (counts[k] - e) * (counts[k] - e) / e;
  }
  EXPECT_LT(chi_square, 13.82) << "counts " << counts[0] << " " << counts[1] << " " << counts[2];
}

TEST(PseudoMasks, WeightedBestSkipsZeroWeightsUnlessAllAreZero) {
  const std::vector<proposals::Proposal> proposals = {
      box_proposal(8, 8, 0, 8, 0, 8, 0.9f), box_proposal(8, 8, 0, 4, 0, 4, 0.2f), box_proposal(8, 8, 0, 3, 0, 3, 0.1f)};
  PseudoMaskOptions options;
  options.selection = Selection::best;
  // 0.9 x 0.1 < 0.2 x 1: the tight proposal wins over the large one.
  std::vector<float> weights = {0.1f, 1.0f, 1.0f};
  const CandidateWeight weight = [&](const ClassPeak&, size_t proposal) { return weights[proposal]; };
  EXPECT_EQ(pseudo_masks_for_image(0, proposals, {{1, 1, 1}}, options, weight).masks.at(0).proposal, 1u);
  // A zero weight removes a candidate, even the best by objectness...
  weights = {0.0f, 0.0f, 1.0f};
  const ImagePseudoMasks only = pseudo_masks_for_image(0, proposals, {{1, 1, 1}}, options, weight);
  EXPECT_EQ(only.masks.at(0).proposal, 2u);
  EXPECT_FLOAT_EQ(only.masks.at(0).objectness, 0.1f);  // the proposal's b_k, not b_k w_k
  // ...but when all weigh 0, objectness alone decides.
  weights = {0.0f, 0.0f, 0.0f};
  EXPECT_EQ(pseudo_masks_for_image(0, proposals, {{1, 1, 1}}, options, weight).masks.at(0).proposal, 0u);
  weights = {-1.0f, 1.0f, 1.0f};
  EXPECT_THROW(pseudo_masks_for_image(0, proposals, {{1, 1, 1}}, options, weight), std::invalid_argument);
}

TEST(PseudoMasks, DuplicatesPerClassAndPeaksWithoutProposals) {
  const std::vector<proposals::Proposal> proposals = {box_proposal(8, 8, 0, 4, 0, 4, 0.5f)};
  PseudoMaskOptions options;
  options.selection = Selection::best;
  // Two peaks of class 1 in the one proposal, one of class 2 in it, one on the
  // background, one outside the image.
  const std::vector<ClassPeak> peaks = {{1, 1, 1}, {1, 2, 3}, {2, 0, 0}, {1, 6, 6}, {1, 8, 2}};
  const ImagePseudoMasks result = pseudo_masks_for_image(0, proposals, peaks, options);
  ASSERT_EQ(result.masks.size(), 2u);
  EXPECT_EQ(result.masks[0].category_id, 1);
  EXPECT_EQ(result.masks[0].peak, 0u);
  EXPECT_EQ(result.masks[1].category_id, 2);
  EXPECT_EQ(result.duplicates, 1);
  EXPECT_EQ(result.peaks_without_proposal, 2);
  EXPECT_EQ(result.peaks, 5);
}

TEST(PseudoMasks, DrawsDependOnSeedImageAndPeakOnly) {
  // The same image alone or after others, with its peaks in the same order: same picks.
  std::vector<proposals::Proposal> proposals;
  for (int k = 0; k < 10; ++k) proposals.push_back(box_proposal(32, 32, 0, 16 + k, 0, 16 + k, 0.05f + 0.09f * k));
  const std::vector<ClassPeak> peaks = {{1, 3, 3}, {2, 4, 4}, {3, 5, 5}};
  PseudoMaskOptions options;
  options.seed = 5;
  const ImagePseudoMasks alone = pseudo_masks_for_image(41, proposals, peaks, options);
  for (int other = 0; other < 40; ++other) pseudo_masks_for_image(other, proposals, peaks, options);
  const ImagePseudoMasks again = pseudo_masks_for_image(41, proposals, peaks, options);
  ASSERT_EQ(alone.masks.size(), again.masks.size());
  for (size_t m = 0; m < alone.masks.size(); ++m) EXPECT_EQ(alone.masks[m].proposal, again.masks[m].proposal);
  EXPECT_EQ(peak_uniform(5, 41, 2), peak_uniform(5, 41, 2));
  EXPECT_NE(peak_uniform(5, 41, 2), peak_uniform(6, 41, 2));
  EXPECT_NE(peak_uniform(5, 41, 2), peak_uniform(5, 42, 2));
  EXPECT_NE(peak_uniform(5, 41, 2), peak_uniform(5, 41, 1));
}

TEST(PseudoMasks, InverseCdfBoundaries) {
  const std::vector<float> b = {1.0f, 2.0f, 1.0f};  // cumulative 1, 3, 4 of 4
  EXPECT_EQ(sample_by_objectness(b, 0.0), 0u);
  EXPECT_EQ(sample_by_objectness(b, 0.2499), 0u);
  EXPECT_EQ(sample_by_objectness(b, 0.25), 1u);
  EXPECT_EQ(sample_by_objectness(b, 0.7499), 1u);
  EXPECT_EQ(sample_by_objectness(b, 0.75), 2u);
  EXPECT_EQ(sample_by_objectness(b, 0.999999), 2u);
  EXPECT_NE(testing::error_of<std::invalid_argument>([&] { sample_by_objectness({}, 0.5); }).find("no candidate"), std::string::npos);
  EXPECT_NE(testing::error_of<std::invalid_argument>([&] { sample_by_objectness({0.5f, 0.0f}, 0.5); }).find("objectness must be > 0"),
            std::string::npos);
  EXPECT_NE(testing::error_of<std::invalid_argument>([&] { parse_selection("random"); }).find("expected sample (WISE Eq. 1) or best"),
            std::string::npos);
  EXPECT_EQ(parse_selection(selection_name(Selection::best)), Selection::best);
}

}  // namespace
}  // namespace wise::pseudo_masks
