// train/class_map_support.h: each pixel reads its nearest up-grid cell divided by the
// map's maximum; a mask's support is the mean over its pixels, by RLE runs against a
// brute-force mean over the decoded mask.

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "data/rle.h"
#include "train/class_map_support.h"

namespace wise::testing {
namespace {

// One image, three classes, 4 x 4 maps at stride 8 seen without upsampling (factor 1).
Tensor three_class_maps() {
  std::vector<float> values(3 * 16, 0.0f);
  auto at = [&](int64_t k, int64_t y, int64_t x) -> float& { return values[static_cast<size_t>(k * 16 + y * 4 + x)]; };
  at(0, 0, 0) = 10.0f;
  at(0, 3, 3) = 4.0f;
  at(1, 0, 3) = 6.0f;
  at(1, 3, 3) = 3.0f;
  at(2, 0, 3) = 9.0f;
  return Tensor::from_vector<float>({1, 3, 4, 4}, values);
}

data::ImageGeometry unscaled() {
  data::ImageGeometry geometry;
  geometry.original_height = geometry.height = 32;
  geometry.original_width = geometry.width = 32;
  return geometry;
}

TEST(ClassMapSupport, ReadsTheNearestCellOfEachPixelDividedByTheMapsMaximum) {
  const Tensor maps = three_class_maps();
  // Factor 1, stride 8: pixel p reads cell round(p / 8), clamped to the map.
  const std::vector<float> support = class_map_support(maps, 0, 0, 4, 4, unscaled(), 8);
  ASSERT_EQ(support.size(), 32u * 32u);
  auto at = [&](const std::vector<float>& image, int64_t width, int64_t y, int64_t x) {
    return image[static_cast<size_t>(y * width + x)];
  };
  EXPECT_FLOAT_EQ(at(support, 32, 0, 0), 1.0f);    // cell (0, 0): 10 / 10
  EXPECT_FLOAT_EQ(at(support, 32, 3, 3), 1.0f);    // still cell (0, 0)
  EXPECT_FLOAT_EQ(at(support, 32, 4, 0), 0.0f);    // 4 / 8 rounds to cell 1
  EXPECT_FLOAT_EQ(at(support, 32, 24, 24), 0.4f);  // cell (3, 3): 4 / 10
  EXPECT_FLOAT_EQ(at(support, 32, 31, 31), 0.4f);  // 3.875 rounds past the map: clamped to 3

  // Through the loader's resize: a 64 x 64 original halved, so pixel 48 is cell 3.
  data::ImageGeometry half = unscaled();
  half.original_height = 64;
  half.original_width = 64;
  const std::vector<float> class1 = class_map_support(maps, 0, 1, 4, 4, half, 8);
  ASSERT_EQ(class1.size(), 64u * 64u);
  EXPECT_FLOAT_EQ(at(class1, 64, 0, 48), 1.0f);  // 6 / 6
  EXPECT_FLOAT_EQ(at(class1, 64, 48, 48), 0.5f); // 3 / 6
  EXPECT_FLOAT_EQ(at(class1, 64, 0, 0), 0.0f);

  // A map whose maximum is not positive supports nothing; negative values clamp to 0.
  std::vector<float> values = maps.to_vector<float>();
  for (float& value : values) value -= 5.0f;  // class 1's map: maximum 1, mostly -5
  const Tensor shifted = Tensor::from_vector<float>({1, 3, 4, 4}, values);
  EXPECT_FLOAT_EQ(at(class_map_support(shifted, 0, 1, 4, 4, unscaled(), 8), 32, 8, 8), 0.0f);
  for (float& value : values) value -= 20.0f;
  const std::vector<float> none = class_map_support(Tensor::from_vector<float>({1, 3, 4, 4}, values), 0, 0, 4, 4,
                                                    unscaled(), 8);
  EXPECT_EQ(none, std::vector<float>(32 * 32, 0.0f));
}

TEST(MaskSupport, MeanOverTheMaskByRunsEqualsTheMeanOverItsDecodedPixels) {
  // Random maps upsampled x8 at stride 8 on a 40 x 56 image the loader halved (80 x 112).
  std::mt19937 random(5);
  std::uniform_real_distribution<float> uniform(-1.0f, 3.0f);
  std::vector<float> values(2 * 2 * 40 * 56);
  for (float& value : values) value = uniform(random);
  const Tensor maps = Tensor::from_vector<float>({2, 2, 40, 56}, values);
  data::ImageGeometry geometry;
  geometry.height = 40;
  geometry.width = 56;
  geometry.original_height = 80;
  geometry.original_width = 112;
  MaskSupport support(maps, 1, 5, 7, geometry, 8);
  for (int64_t k = 0; k < 2; ++k) {
    const std::vector<float> pixels = class_map_support(maps, 1, k, 5, 7, geometry, 8);
    for (int trial = 0; trial < 20; ++trial) {
      std::vector<uint8_t> mask(80 * 112);
      const float density = static_cast<float>(trial) / 19.0f;
      for (uint8_t& value : mask) value = std::uniform_real_distribution<float>(0, 1)(random) < density;
      double sum = 0;
      int64_t area = 0;
      for (size_t i = 0; i < mask.size(); ++i) {
        if (!mask[i]) continue;
        sum += pixels[i];
        ++area;
      }
      const double expected = area > 0 ? sum / static_cast<double>(area) : 0.0;
      EXPECT_NEAR(support.of(k, data::rle_encode(mask, 80, 112)), expected, 1e-5) << "class " << k << " trial " << trial;
    }
  }
  EXPECT_THROW(support.of(0, data::rle_encode(std::vector<uint8_t>(16, 1), 4, 4)), std::exception);
}

}  // namespace
}  // namespace wise::testing
