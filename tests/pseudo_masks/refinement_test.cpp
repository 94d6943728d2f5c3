// pseudo_masks/refinement.h: WISE's test-time refinement on hand-made masks whose IoUs are
// worked out below, then on random masks against a brute-force reference that decodes
// every mask and counts pixels (not nn/masks.h's packed kernel the code uses).
#include "pseudo_masks/refinement.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/check.h"

namespace wise::pseudo_masks {
namespace {

data::Rle box(int64_t height, int64_t width, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
  std::vector<uint8_t> pixels(static_cast<size_t>(height * width), 0);
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t x = x0; x < x1; ++x) pixels[static_cast<size_t>(y * width + x)] = 1;
  return data::rle_encode(pixels, height, width);
}

proposals::Proposal proposal(const data::Rle& mask, float objectness) {
  return {mask, objectness, data::rle_to_bbox(mask)};
}

data::Detection detection(const data::Rle& mask, float score, int64_t category) {
  return {7, category, score, mask, data::rle_to_bbox(mask)};
}

TEST(Refinement, EachMaskBecomesItsBestIouProposalAndKeepsItsScoreAndClass) {
  // Predicted a: rows 0-9, columns 0-9 (100 px). Proposals:
  //   p0 rows 0-9, cols 2-11: IoU 80 / 120 = 0.667   (objectness 0.9)
  //   p1 rows 0-8, cols 0-9:  IoU 90 / 100 = 0.9     (objectness 0.5)
  //   p2 rows 10-19:          IoU 0 with a; the best for b
  // Predicted b: rows 12-19, cols 0-9 (80 px): IoU with p2 (rows 10-19, 100 px) 80 / 100.
  const data::Rle a = box(20, 20, 0, 10, 0, 10), b = box(20, 20, 12, 20, 0, 10);
  const std::vector<proposals::Proposal> list{proposal(box(20, 20, 0, 10, 2, 12), 0.9f),
                                              proposal(box(20, 20, 0, 9, 0, 10), 0.5f),
                                              proposal(box(20, 20, 10, 20, 0, 10), 0.4f)};
  RefinementCounts counts;
  const std::vector<data::Detection> refined =
      refine_detections({detection(a, 0.9f, 1), detection(b, 0.3f, 2)}, list, {}, &counts);
  ASSERT_EQ(refined.size(), 2u);
  EXPECT_EQ(refined[0].segmentation.counts, list[1].mask.counts);
  EXPECT_EQ(refined[0].bbox, (std::array<double, 4>{0, 0, 10, 9}));
  EXPECT_EQ(refined[1].segmentation.counts, list[2].mask.counts);
  EXPECT_FLOAT_EQ(refined[0].score, 0.9f);
  EXPECT_EQ(refined[1].category_id, 2);
  EXPECT_EQ(refined[1].image_id, 7);
  EXPECT_EQ(counts.detections, 2);
  EXPECT_EQ(counts.replaced, 2);
  EXPECT_NEAR(counts.iou_sum, 0.9 + 0.8, 1e-6);

  // The released code's rule: only proposals scoring > 0.75 are candidates, so a takes p0
  // and b, overlapping none of them, keeps its own mask.
  RefinementOptions released;
  released.min_objectness = 0.75f;
  const std::vector<data::Detection> strict =
      refine_detections({detection(a, 0.9f, 1), detection(b, 0.3f, 2)}, list, released);
  EXPECT_EQ(strict[0].segmentation.counts, list[0].mask.counts);
  EXPECT_EQ(strict[1].segmentation.counts, b.counts);
  EXPECT_EQ(strict[1].bbox, data::rle_to_bbox(b));
}

TEST(Refinement, TiesGoToTheHigherObjectnessAndEmptyInputsPassThrough) {
  const data::Rle a = box(10, 10, 0, 4, 0, 4);
  // Two proposals of equal IoU with a (each 4 x 2 inside it: 8 / 16); the list is sorted
  // by objectness, so the first wins.
  const std::vector<proposals::Proposal> list{proposal(box(10, 10, 0, 4, 0, 2), 0.8f),
                                              proposal(box(10, 10, 0, 4, 2, 4), 0.6f)};
  EXPECT_EQ(refine_detections({detection(a, 1, 1)}, list)[0].segmentation.counts, list[0].mask.counts);
  EXPECT_TRUE(refine_detections({}, list).empty());
  EXPECT_EQ(refine_detections({detection(a, 1, 1)}, {})[0].segmentation.counts, a.counts);
  // An empty predicted mask overlaps nothing: kept.
  const data::Rle empty = data::rle_empty(10, 10);
  EXPECT_EQ(refine_detections({detection(empty, 1, 1)}, list)[0].segmentation.counts, empty.counts);
  // A mask of another size than the proposals' is an error naming the image.
  try {
    refine_detections({detection(box(12, 10, 0, 4, 0, 4), 1, 1)}, list);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("image 7"), std::string::npos) << error.what();
  }
}

TEST(Refinement, AgreesWithABruteForceReferenceOnRandomMasks) {
  std::mt19937 rng(23);
  const int64_t height = 17, width = 23;
  auto random_mask = [&] {
    std::vector<uint8_t> pixels(static_cast<size_t>(height * width));
    const int64_t y0 = rng() % height, x0 = rng() % width;
    for (int64_t y = 0; y < height; ++y)
      for (int64_t x = 0; x < width; ++x)
        pixels[static_cast<size_t>(y * width + x)] = (std::abs(y - y0) + std::abs(x - x0) < 6) || rng() % 9 == 0;
    return pixels;
  };
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<std::vector<uint8_t>> proposal_pixels, detection_pixels;
    std::vector<proposals::Proposal> list;
    for (int k = 0; k < 30; ++k) {
      proposal_pixels.push_back(random_mask());
      list.push_back(proposal(data::rle_encode(proposal_pixels.back(), height, width), 1.0f - 0.01f * k));
    }
    std::vector<data::Detection> detections;
    for (int k = 0; k < 5; ++k) {
      detection_pixels.push_back(random_mask());
      detections.push_back(detection(data::rle_encode(detection_pixels.back(), height, width), 0.5f, 1));
    }
    const std::vector<data::Detection> refined = refine_detections(detections, list);
    for (size_t i = 0; i < detections.size(); ++i) {
      double best = -1;
      size_t best_k = 0;
      for (size_t k = 0; k < list.size(); ++k) {
        int64_t both = 0, either = 0;
        for (size_t p = 0; p < detection_pixels[i].size(); ++p) {
          both += detection_pixels[i][p] && proposal_pixels[k][p];
          either += detection_pixels[i][p] || proposal_pixels[k][p];
        }
        const double iou = either > 0 ? static_cast<double>(both) / either : 0;
        if (iou > best + 1e-9) {
          best = iou;
          best_k = k;
        }
      }
      EXPECT_EQ(refined[i].segmentation.counts, list[best_k].mask.counts) << "trial " << trial << " detection " << i;
    }
  }
}

}  // namespace
}  // namespace wise::pseudo_masks
