// train/peak_rule.h: which of PRM's inference peaks count, on hand-made maps.

#include <gtest/gtest.h>

#include <vector>

#include "train/peak_rule.h"

namespace wise::testing {
namespace {

// One image, three classes, 4 x 4 maps at stride 8 seen without upsampling (factor 1,
// so map cell (y, x) is pixel (8 y, 8 x)), and the peaks PRM's PSL would report.
struct Maps {
  PrmInference inference;
  Tensor maps;
};

Maps three_class_maps() {
  std::vector<float> values(3 * 16, 0.0f);
  auto at = [&](int64_t k, int64_t y, int64_t x) -> float& { return values[static_cast<size_t>(k * 16 + y * 4 + x)]; };
  // Class 0: a strong peak at (0, 0) and a weak one at (3, 3); class 1: a peak at (0, 3)
  // and one at (3, 3) where class 0 is higher; class 2 (absent below) is highest at (0, 3).
  at(0, 0, 0) = 10.0f;
  at(0, 3, 3) = 4.0f;
  at(1, 0, 3) = 6.0f;
  at(1, 3, 3) = 3.0f;
  at(2, 0, 3) = 9.0f;
  Maps out;
  out.maps = Tensor::from_vector<float>({1, 3, 4, 4}, values);
  out.inference.class_maps = out.maps;
  out.inference.peaks = Tensor::from_vector<int64_t>({5, 4}, {0, 0, 0, 0,  //
                                                              0, 0, 3, 3,  //
                                                              0, 1, 0, 3,  //
                                                              0, 1, 3, 3,  //
                                                              0, 2, 0, 3});
  out.inference.peak_values = Tensor::from_vector<float>({5}, {10.0f, 4.0f, 6.0f, 3.0f, 9.0f});
  return out;
}

data::ImageGeometry unscaled() {
  data::ImageGeometry geometry;
  geometry.original_height = geometry.height = 32;
  geometry.original_width = geometry.width = 32;
  return geometry;
}

std::vector<std::vector<int64_t>> as_rows(const std::vector<PixelPeak>& peaks) {
  std::vector<std::vector<int64_t>> rows;
  for (const PixelPeak& peak : peaks) rows.push_back({peak.category_id, peak.y, peak.x});
  return rows;
}

TEST(PeakRule, KeepsPeaksAboveTheFractionOfTheirMapsMaximum) {
  const Maps m = three_class_maps();
  const std::vector<int64_t> ids = {11, 12, 13};
  const std::vector<bool> present = {true, true, false};
  PeakRule rule;
  rule.fraction = 0.5f;  // class 0 keeps >= 5 (not the 4), class 1 keeps >= 3 (both)
  const std::vector<PixelPeak> peaks = image_peaks(m.inference, m.maps, 0, present, ids, unscaled(), {1, 3, 32, 32},
                                                   rule, /*stride=*/8);
  EXPECT_EQ(as_rows(peaks), (std::vector<std::vector<int64_t>>{{11, 0, 0}, {12, 0, 24}, {12, 24, 24}}));
  rule.fraction = 0.25f;
  EXPECT_EQ(image_peaks(m.inference, m.maps, 0, present, ids, unscaled(), {1, 3, 32, 32}, rule, 8).size(), 4u);
}

TEST(PeakRule, DominantDropsPeaksAnotherPresentClassOutscores) {
  const Maps m = three_class_maps();
  const std::vector<int64_t> ids = {11, 12, 13};
  PeakRule rule;
  rule.fraction = 0.25f;
  rule.dominant = true;
  // Class 1's peak at (3, 3) lies where class 0's map is higher: dropped. Its peak at
  // (0, 3) survives although absent class 2 is higher there: absent classes never compete.
  const std::vector<PixelPeak> peaks =
      image_peaks(m.inference, m.maps, 0, {true, true, false}, ids, unscaled(), {1, 3, 32, 32}, rule, 8);
  EXPECT_EQ(as_rows(peaks), (std::vector<std::vector<int64_t>>{{11, 0, 0}, {11, 24, 24}, {12, 0, 24}}));
  // With class 2 present, it takes (0, 3) from class 1, and its own peak counts.
  const std::vector<PixelPeak> all =
      image_peaks(m.inference, m.maps, 0, {true, true, true}, ids, unscaled(), {1, 3, 32, 32}, rule, 8);
  EXPECT_EQ(as_rows(all), (std::vector<std::vector<int64_t>>{{11, 0, 0}, {11, 24, 24}, {13, 0, 24}}));
}

TEST(PeakRule, AMapWithANegativeMaximumKeepsItsMaximumAndPixelsGoBackToTheOriginalImage) {
  Maps m = three_class_maps();
  std::vector<float> values = m.maps.to_vector<float>();
  for (float& value : values) value -= 20.0f;  // every map negative
  m.maps = Tensor::from_vector<float>({1, 3, 4, 4}, values);
  m.inference.peak_values = Tensor::from_vector<float>({5}, {-10.0f, -16.0f, -14.0f, -17.0f, -11.0f});
  data::ImageGeometry half = unscaled();
  half.original_height = 64;  // the loader halved the image: pixels double on the way back
  half.original_width = 64;
  PeakRule rule;
  rule.fraction = 0.9f;
  const std::vector<PixelPeak> peaks =
      image_peaks(m.inference, m.maps, 0, {true, true, false}, {11, 12, 13}, half, {1, 3, 32, 32}, rule, 8);
  EXPECT_EQ(as_rows(peaks), (std::vector<std::vector<int64_t>>{{11, 0, 0}, {12, 0, 48}}));
}

}  // namespace
}  // namespace wise::testing
