// PRM's proposal retrieval (pseudo_masks/peak_retrieval.h): the score against a
// brute-force reference (contour by nested loops over each pixel's window, background
// and sums pixel by pixel), hand-computed contours, each peak retrieving its own object,
// the background penalty, the class-agnostic NMS at 0.3, and the COCO detections.
#include "pseudo_masks/peak_retrieval.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "data/rle.h"
#include "tests/support/errors.h"

namespace wise::pseudo_masks {
namespace {

using Pixels = std::vector<uint8_t>;  // H * W, row-major

proposals::Proposal proposal_of(const Pixels& pixels, int64_t height, int64_t width) {
  proposals::Proposal proposal;
  proposal.mask = data::rle_encode(pixels, height, width);
  proposal.objectness = 0.5f;
  proposal.box = data::rle_to_bbox(proposal.mask);
  return proposal;
}

// Rows [y0, y1) x columns [x0, x1) set in `pixels`.
void fill_box(Pixels& pixels, int64_t width, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t x = x0; x < x1; ++x) pixels[static_cast<size_t>(y * width + x)] = 1;
}

Pixels box_pixels(int64_t height, int64_t width, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
  Pixels pixels(static_cast<size_t>(height * width), 0);
  fill_box(pixels, width, y0, y1, x0, x1);
  return pixels;
}

// ---- The reference: PRM's score written out pixel by pixel --------------------------

// cv2.morphologyEx(MORPH_GRADIENT, ones(w, w)) = dilate - erode, with OpenCV's anchor
// (w / 2) and its default border (outside pixels ignored): dilate(p) = max of the mask
// over p's in-image window, erode(p) = its min; the contour is where they differ.
Pixels reference_contour(const Pixels& mask, int64_t height, int64_t width, int64_t w) {
  Pixels contour(mask.size(), 0);
  const int64_t anchor = w / 2;
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      int dilated = 0, eroded = 1;
      for (int64_t i = 0; i < w; ++i)
        for (int64_t j = 0; j < w; ++j) {
          const int64_t yy = y + i - anchor, xx = x + j - anchor;
          if (yy < 0 || yy >= height || xx < 0 || xx >= width) continue;
          const int value = mask[static_cast<size_t>(yy * width + xx)];
          dilated = std::max(dilated, value);
          eroded = std::min(eroded, value);
        }
      contour[static_cast<size_t>(y * width + x)] = static_cast<uint8_t>(dilated - eroded);
    }
  return contour;
}

// alpha sum_G R + sum_contour R - beta sum_G [S < gamma mean S], S = M or M min-max scaled.
double reference_score(const Pixels& mask, const std::vector<float>& response, const std::vector<float>& class_map,
                       int64_t height, int64_t width, const RetrievalOptions& options) {
  const size_t n = mask.size();
  std::vector<double> S(class_map.begin(), class_map.end());
  if (options.min_max_scale_background) {
    double low = S[0], high = S[0];
    for (double s : S) low = std::min(low, s), high = std::max(high, s);
    for (double& s : S) s = high > low ? (s - low) / (high - low) : 0.0;
  }
  double mean = 0;
  for (double s : S) mean += s;
  mean /= static_cast<double>(n);
  const Pixels contour = reference_contour(mask, height, width, options.contour_width);
  double inside = 0, on_contour = 0, background = 0;
  for (size_t p = 0; p < n; ++p) {
    if (mask[p]) inside += response[p];
    if (contour[p]) on_contour += response[p];
    if (mask[p] && S[p] < options.background_threshold_factor * mean) background += 1;
  }
  return options.balance_factor * inside + on_contour - options.penalty_factor * background;
}

PeakResponse peak_of(int64_t category, float class_score, const std::vector<float>& response,
                     const std::vector<float>& class_map) {
  return {category, class_score, response.data(), class_map.data()};
}

// ---- Hand-computed contours ---------------------------------------------------------

TEST(PeakRetrieval, ContourOfHandBuiltMasks) {
  // R = 1 everywhere, alpha = 0.8, beta = 0: score = 0.8 area + the contour's pixel count.
  const std::vector<float> ones(49, 1.0f), flat(49, 0.0f);
  RetrievalOptions options;
  options.penalty_factor = 0;
  options.contour_width = 3;
  // A 3x3 square in the middle of 7x7: dilation 5x5 = 25, erosion the centre = 1: 24.
  EXPECT_DOUBLE_EQ(retrieval_score(proposal_of(box_pixels(7, 7, 2, 5, 2, 5), 7, 7), peak_of(1, 0, ones, flat), 7, 7, options),
                   0.8 * 9 + 24);
  // The same square in the top-left corner: dilation rows/columns 0..3 = 16; erosion keeps
  // rows/columns 0..1 = 4, since the image edge does not erode: 12.
  EXPECT_DOUBLE_EQ(retrieval_score(proposal_of(box_pixels(7, 7, 0, 3, 0, 3), 7, 7), peak_of(1, 0, ones, flat), 7, 7, options),
                   0.8 * 9 + 12);
  // Even width 2, anchor 1: the window of (y, x) is rows y-1..y; a lone pixel (3, 3) is in
  // the windows of (3..4, 3..4), and no window of 4 pixels is all mask: 4.
  options.contour_width = 2;
  EXPECT_DOUBLE_EQ(retrieval_score(proposal_of(box_pixels(7, 7, 3, 4, 3, 4), 7, 7), peak_of(1, 0, ones, flat), 7, 7, options),
                   0.8 * 1 + 4);
  // Width 1: dilation = erosion = the mask, no contour.
  options.contour_width = 1;
  EXPECT_DOUBLE_EQ(retrieval_score(proposal_of(box_pixels(7, 7, 2, 5, 2, 5), 7, 7), peak_of(1, 0, ones, flat), 7, 7, options),
                   0.8 * 9);
}

// ---- Random masks against the reference ----------------------------------------------

TEST(PeakRetrieval, ScoreMatchesBruteForceReference) {
  constexpr int64_t H = 13, W = 17;  // not square: a transposed index would show
  constexpr uint32_t kSeed = 20261203;
  std::mt19937 generator(kSeed);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  std::uniform_int_distribution<int64_t> row(0, H), column(0, W);
  int cases = 0;
  for (int trial = 0; trial < 60; ++trial) {
    // 1-3 rectangles (often touching an image edge) and a few lone pixels.
    Pixels mask(static_cast<size_t>(H * W), 0);
    for (int r = 0, rectangles = 1 + trial % 3; r < rectangles; ++r) {
      int64_t y0 = row(generator), y1 = row(generator), x0 = column(generator), x1 = column(generator);
      if (y0 > y1) std::swap(y0, y1);
      if (x0 > x1) std::swap(x0, x1);
      fill_box(mask, W, y0, y1, x0, x1);
    }
    for (int s = 0; s < 3; ++s) mask[static_cast<size_t>(generator() % (H * W))] = 1;
    std::vector<float> response(mask.size()), class_map(mask.size());
    for (float& r : response) r = uniform(generator);
    for (float& m : class_map) m = 4.0f * uniform(generator) - 3.0f;  // logits, mostly negative
    const proposals::Proposal proposal = proposal_of(mask, H, W);
    for (int64_t width = 1; width <= 6; ++width)
      for (bool scaled : {true, false}) {
        RetrievalOptions options;
        options.contour_width = width;
        options.min_max_scale_background = scaled;
        options.penalty_factor = 0.01;  // large enough that the background term shows
        const double expected = reference_score(mask, response, class_map, H, W, options);
        const double got = retrieval_score(proposal, peak_of(1, 0, response, class_map), H, W, options);
        ASSERT_NEAR(got, expected, 1e-9 * (1 + std::fabs(expected)))
            << "seed " << kSeed << " trial " << trial << " contour_width " << width << " scaled " << scaled;
        ++cases;
      }
  }
  EXPECT_EQ(cases, 60 * 6 * 2);
}

// ---- Retrieval ---------------------------------------------------------------------

// A Gaussian bump at (cy, cx), zero beyond `radius` (PRM's maps are clamped at 0, so an
// instance's response is zero on far-away pixels), normalised to sum 1 like PRM's.
std::vector<float> bump(int64_t height, int64_t width, double cy, double cx, double sigma, double radius) {
  std::vector<float> map(static_cast<size_t>(height * width), 0.0f);
  double total = 0;
  for (int64_t y = 0; y < height; ++y)
    for (int64_t x = 0; x < width; ++x) {
      const double d2 = (y - cy) * (y - cy) + (x - cx) * (x - cx);
      if (d2 <= radius * radius) total += map[static_cast<size_t>(y * width + x)] = static_cast<float>(std::exp(-d2 / (2 * sigma * sigma)));
    }
  for (float& v : map) v = static_cast<float>(v / total);
  return map;
}

TEST(PeakRetrieval, EachPeakRetrievesItsOwnSquare) {
  constexpr int64_t H = 64, W = 64;
  const Pixels a = box_pixels(H, W, 8, 24, 8, 24), b = box_pixels(H, W, 36, 56, 36, 56);
  Pixels both = a, top_of_a = box_pixels(H, W, 8, 16, 8, 24);
  for (size_t p = 0; p < both.size(); ++p) both[p] |= b[p];
  const std::vector<proposals::Proposal> proposals = {proposal_of(a, H, W), proposal_of(b, H, W),
                                                      proposal_of(both, H, W), proposal_of(top_of_a, H, W)};
  // The class map is high on both squares (one class, two instances).
  std::vector<float> class_map(static_cast<size_t>(H * W), -2.0f);
  for (size_t p = 0; p < class_map.size(); ++p)
    if (a[p] || b[p]) class_map[p] = 3.0f;
  const std::vector<float> response_a = bump(H, W, 15.5, 15.5, 4, 7), response_b = bump(H, W, 45.5, 45.5, 5, 9);
  const std::vector<PeakResponse> peaks = {peak_of(2, 1.0f, response_a, class_map), peak_of(2, 1.0f, response_b, class_map)};
  const RetrievalOptions options;
  const std::vector<RetrievedInstance> instances = retrieve_instances(proposals, peaks, H, W, options);
  ASSERT_EQ(instances.size(), 2u);
  for (const RetrievedInstance& instance : instances) {
    EXPECT_EQ(instance.proposal, instance.peak) << "peak " << instance.peak << " retrieved proposal " << instance.proposal;
    EXPECT_EQ(instance.category_id, 2);
    EXPECT_DOUBLE_EQ(instance.retrieval_score,
                     reference_score(instance.peak == 0 ? a : b, instance.peak == 0 ? response_a : response_b, class_map, H, W, options));
  }
  // The union adds only zero response and no background: it ties with the square exactly,
  // and the first of equals in list order stays (PRM's strict >).
  EXPECT_EQ(retrieval_score(proposals[2], peaks[0], H, W, options), retrieval_score(proposals[0], peaks[0], H, W, options));
  EXPECT_LT(retrieval_score(proposals[3], peaks[0], H, W, options), retrieval_score(proposals[0], peaks[0], H, W, options));
}

TEST(PeakRetrieval, BackgroundPenaltyChangesTheChoice) {
  // The class map marks rows/columns 8..15 as the object; a uniform response r = 1 / (H W)
  // prefers the 16x16 box around it until beta makes the box's 192 background pixels cost.
  // By hand (w = 5): box 0.8 * 256 r + 256 r (its contour: 20^2 - 12^2) = 0.45 - 192 beta;
  // object 0.8 * 64 r + 128 r (12^2 - 4^2) = 0.175: the choice flips at beta = 1.43e-3.
  constexpr int64_t H = 32, W = 32;
  const Pixels object = box_pixels(H, W, 8, 16, 8, 16);
  const std::vector<proposals::Proposal> proposals = {proposal_of(box_pixels(H, W, 4, 20, 4, 20), H, W),
                                                      proposal_of(object, H, W)};
  std::vector<float> class_map(object.begin(), object.end());
  const std::vector<float> response(static_cast<size_t>(H * W), 1.0f / (H * W));
  const std::vector<PeakResponse> peaks = {peak_of(1, 0.5f, response, class_map)};
  RetrievalOptions options;
  for (double beta : {1e-5, 1e-3}) {
    options.penalty_factor = beta;
    const std::vector<RetrievedInstance> instances = retrieve_instances(proposals, peaks, H, W, options);
    ASSERT_EQ(instances.size(), 1u);
    EXPECT_EQ(instances[0].proposal, 0u) << "beta " << beta;
    EXPECT_NEAR(instances[0].retrieval_score, 0.45 - 192 * beta, 1e-12);
  }
  options.penalty_factor = 2e-3;
  const std::vector<RetrievedInstance> instances = retrieve_instances(proposals, peaks, H, W, options);
  ASSERT_EQ(instances.size(), 1u);
  EXPECT_EQ(instances[0].proposal, 1u);
  EXPECT_NEAR(instances[0].retrieval_score, 0.175, 1e-12);
  EXPECT_DOUBLE_EQ(instances[0].retrieval_score, reference_score(object, response, class_map, H, W, options));
}

TEST(PeakRetrieval, NmsAtPointThreeIsClassAgnosticAndSortedByScore) {
  // Contour width 1 (no contour): score = 0.8 sum_G R. Each peak's R is a constant on one
  // proposal, so it retrieves that proposal, with score 0.8 * constant * 100.
  constexpr int64_t H = 40, W = 40;
  const std::vector<proposals::Proposal> proposals = {
      proposal_of(box_pixels(H, W, 0, 10, 0, 10), H, W),    // 0
      proposal_of(box_pixels(H, W, 0, 10, 2, 12), H, W),    // 1: IoU 80 / 120 = 0.67 with 0
      proposal_of(box_pixels(H, W, 20, 30, 20, 30), H, W),  // 2: disjoint
      proposal_of(box_pixels(H, W, 20, 30, 26, 36), H, W),  // 3: IoU 40 / 160 = 0.25 with 2
      proposal_of(box_pixels(H, W, 0, 10, 5, 15), H, W)};   // 4: IoU 50 / 150 = 0.33 with 0
  auto on = [&](size_t k, float value) {
    const std::vector<uint8_t> pixels = data::rle_decode(proposals[k].mask);
    std::vector<float> map(pixels.size());
    for (size_t p = 0; p < map.size(); ++p) map[p] = pixels[p] ? value : 0.0f;
    return map;
  };
  const std::vector<float> flat(static_cast<size_t>(H * W), 0.0f);
  const std::vector<std::vector<float>> responses = {on(1, 2.0f), on(0, 3.0f), on(2, 1.0f), on(3, 0.5f), on(4, 4.0f)};
  std::vector<PeakResponse> peaks;
  const int64_t categories[] = {1, 2, 1, 3, 1};  // peak 1's other class does not save it
  for (size_t p = 0; p < responses.size(); ++p) peaks.push_back(peak_of(categories[p], 0, responses[p], flat));
  RetrievalOptions options;
  options.contour_width = 1;
  const std::vector<RetrievedInstance> instances = retrieve_instances(proposals, peaks, H, W, options);
  // Retrieved (peak: proposal, score): 4: 4, 320; 1: 0, 240; 0: 1, 160; 2: 2, 80; 3: 3, 40.
  // NMS in that order: 4 kept; 1 removed (IoU 50 / 150 = 0.33 with 4, another class);
  // 0 removed (70 / 130 = 0.54 with 4); 2 kept (disjoint); 3 kept (0.25 with 2).
  ASSERT_EQ(instances.size(), 3u);
  EXPECT_EQ(instances[0].peak, 4u);
  EXPECT_EQ(instances[0].proposal, 4u);
  EXPECT_DOUBLE_EQ(instances[0].retrieval_score, 0.8 * 4.0 * 100);
  EXPECT_EQ(instances[1].peak, 2u);
  EXPECT_EQ(instances[1].proposal, 2u);
  EXPECT_EQ(instances[2].peak, 3u);
  EXPECT_EQ(instances[2].proposal, 3u);
  EXPECT_EQ(instances[2].category_id, 3);
}

TEST(PeakRetrieval, SkipsEmptyAndOutOfRangeProposals) {
  constexpr int64_t H = 20, W = 20;
  const std::vector<float> response(static_cast<size_t>(H * W), 1.0f), flat(static_cast<size_t>(H * W), 0.0f);
  const std::vector<PeakResponse> peaks = {peak_of(1, 0, response, flat)};
  const RetrievalOptions options;
  // Empty, then the whole image (>= 0.85 H W): nothing to retrieve.
  std::vector<proposals::Proposal> proposals = {proposal_of(Pixels(H * W, 0), H, W),
                                                proposal_of(Pixels(H * W, 1), H, W)};
  EXPECT_TRUE(retrieve_instances(proposals, peaks, H, W, options).empty());
  EXPECT_TRUE(retrieve_instances(proposals, {}, H, W, options).empty());
  EXPECT_TRUE(retrieve_instances({}, peaks, H, W, options).empty());
  // A scorable one after them is found; with proposal_count 2 it is not looked at.
  proposals.push_back(proposal_of(box_pixels(H, W, 2, 8, 2, 8), H, W));
  std::vector<RetrievedInstance> instances = retrieve_instances(proposals, peaks, H, W, options);
  ASSERT_EQ(instances.size(), 1u);
  EXPECT_EQ(instances[0].proposal, 2u);
  RetrievalOptions first_two = options;
  first_two.proposal_count = 2;
  EXPECT_TRUE(retrieve_instances(proposals, peaks, H, W, first_two).empty());
}

TEST(PeakRetrieval, DetectionsCarryImageCategorySigmoidScoreAndRle) {
  constexpr int64_t H = 24, W = 30;
  const std::vector<proposals::Proposal> proposals = {proposal_of(box_pixels(H, W, 3, 9, 4, 14), H, W),
                                                      proposal_of(box_pixels(H, W, 12, 20, 16, 28), H, W)};
  const std::vector<float> response_0 = bump(H, W, 5.5, 8.5, 2, 3), response_1 = bump(H, W, 15.5, 21.5, 2, 3);
  const std::vector<float> flat(static_cast<size_t>(H * W), 0.0f);
  const std::vector<PeakResponse> peaks = {peak_of(7, 0.0f, response_0, flat), peak_of(9, 2.0f, response_1, flat)};
  const std::vector<RetrievedInstance> instances = retrieve_instances(proposals, peaks, H, W, RetrievalOptions{});
  ASSERT_EQ(instances.size(), 2u);
  const std::vector<data::Detection> detections = retrieved_detections(42, proposals, instances);
  ASSERT_EQ(detections.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    const size_t k = instances[i].proposal;
    EXPECT_EQ(detections[i].image_id, 42);
    EXPECT_EQ(detections[i].category_id, k == 0 ? 7 : 9);
    EXPECT_FLOAT_EQ(detections[i].score, k == 0 ? 0.5f : static_cast<float>(1 / (1 + std::exp(-2.0))));  // 0.8808
    EXPECT_EQ(detections[i].segmentation.counts, proposals[k].mask.counts);
    EXPECT_EQ(detections[i].segmentation.height, H);
    EXPECT_EQ(detections[i].segmentation.width, W);
  }
  const size_t first = instances[0].proposal;
  const std::array<double, 4> expected_box = first == 0 ? std::array<double, 4>{4, 3, 10, 6} : std::array<double, 4>{16, 12, 12, 8};
  EXPECT_EQ(detections[0].bbox, expected_box);
  RetrievedInstance stray;
  stray.proposal = 5;
  EXPECT_NE(testing::error_of<std::invalid_argument>([&] { retrieved_detections(1, proposals, {stray}); }).find("expected an index < the 2 proposals"),
            std::string::npos);
}

TEST(PeakRetrieval, UpsampleClassResponseIsBilinearWithAlignCorners) {
  // align corners: output corners are the input's corners, midpoints their averages.
  const std::vector<float> map = {0, 1, 2, 3};  // 2 x 2
  const std::vector<float> up = upsample_class_response(map.data(), 2, 2, 3, 3);
  const std::vector<float> expected = {0, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3};
  ASSERT_EQ(up.size(), expected.size());
  for (size_t i = 0; i < up.size(); ++i) EXPECT_FLOAT_EQ(up[i], expected[i]) << "pixel " << i;
  // 1 x 2 to 1 x 5: columns at 0, 1/4, 1/2, 3/4, 1 of the way.
  const std::vector<float> row = {2, 6};
  const std::vector<float> wide = upsample_class_response(row.data(), 1, 2, 1, 5);
  const std::vector<float> expected_wide = {2, 3, 4, 5, 6};
  for (size_t i = 0; i < wide.size(); ++i) EXPECT_FLOAT_EQ(wide[i], expected_wide[i]) << "column " << i;
}

TEST(PeakRetrieval, ErrorsNameWhatWasExpected) {
  const std::vector<float> map(16, 0.0f);
  const std::vector<proposals::Proposal> proposals = {proposal_of(box_pixels(4, 5, 0, 2, 0, 2), 4, 5)};
  const std::vector<PeakResponse> peaks = {peak_of(1, 0, map, map)};
  EXPECT_NE(testing::error_of<std::invalid_argument>([&] { retrieve_instances(proposals, peaks, 4, 4, RetrievalOptions{}); })
                .find("proposal 0 is 4 x 5, expected the image's 4 x 4"),
            std::string::npos);
  const std::vector<PeakResponse> null_peak = {PeakResponse{3, 0, nullptr, map.data()}};
  EXPECT_NE(testing::error_of<std::invalid_argument>([&] { retrieve_instances(proposals, null_peak, 4, 5, RetrievalOptions{}); })
                .find("category 3 has a null response_map"),
            std::string::npos);
  RetrievalOptions bad;
  bad.contour_width = 0;
  EXPECT_NE(testing::error_of<std::invalid_argument>([&] { check_retrieval_options(bad); }).find("contour_width must be >= 1, got 0"),
            std::string::npos);
}

}  // namespace
}  // namespace wise::pseudo_masks
