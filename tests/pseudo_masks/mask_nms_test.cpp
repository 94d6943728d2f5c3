// pseudo_masks/mask_nms.h: greedy NMS in ranking order on hand-made boxes whose IoUs are
// worked out below, the threshold's strictness, and mismatched sizes.
#include "pseudo_masks/mask_nms.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace wise::pseudo_masks {
namespace {

data::Rle box(int64_t height, int64_t width, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
  std::vector<uint8_t> pixels(static_cast<size_t>(height * width), 0);
  for (int64_t y = y0; y < y1; ++y)
    for (int64_t x = x0; x < x1; ++x) pixels[static_cast<size_t>(y * width + x)] = 1;
  return data::rle_encode(pixels, height, width);
}

TEST(GreedyMaskNms, KeepsAMaskOnlyBelowTheThresholdWithEveryKeptOne) {
  const data::Rle a = box(20, 20, 0, 10, 0, 10);   // 100 pixels
  const data::Rle b = box(20, 20, 0, 10, 5, 15);   // IoU with a: 50 / 150 = 1/3
  const data::Rle c = box(20, 20, 0, 10, 10, 20);  // disjoint from a; IoU with b 1/3
  const data::Rle d = box(20, 20, 10, 20, 0, 10);  // disjoint from all
  // Ranked a, b, c, d at 0.3: b goes (1/3 >= 0.3 with a); c stays (b is not kept); d stays.
  EXPECT_EQ(greedy_mask_nms({&a, &b, &c, &d}, 0.3), (std::vector<size_t>{0, 2, 3}));
  // Ranked b first: b suppresses both a and c.
  EXPECT_EQ(greedy_mask_nms({&b, &a, &c, &d}, 0.3), (std::vector<size_t>{0, 3}));
  // Above every IoU, or above 1, nothing goes; an exact copy goes at threshold 1.
  EXPECT_EQ(greedy_mask_nms({&a, &b, &c}, 0.5), (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(greedy_mask_nms({&a, &a}, 1.5), (std::vector<size_t>{0, 1}));
  EXPECT_EQ(greedy_mask_nms({&a, &a}, 1.0), (std::vector<size_t>{0}));
  EXPECT_TRUE(greedy_mask_nms({}, 0.3).empty());
}

TEST(GreedyMaskNms, MasksOfDifferentSizesAreAnError) {
  const data::Rle a = box(20, 20, 0, 10, 0, 10), b = box(10, 20, 0, 5, 0, 5);
  EXPECT_THROW(greedy_mask_nms({&a, &b}, 0.3), std::invalid_argument);
}

}  // namespace
}  // namespace wise::pseudo_masks
