// Peak quality (train/peak_quality.h) on hand-made instances, and the peak -> pixel
// mapping of train_prm (train/prm_training.h) at hand-computed points.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "data/rle.h"
#include "train/peak_quality.h"
#include "train/prm_training.h"

namespace wise::testing {
namespace {

// A rectangle [y0, y1) x [x0, x1) of class `category` in a 10 x 12 image.
data::Annotation rectangle(int64_t category, int64_t y0, int64_t y1, int64_t x0, int64_t x1) {
  std::vector<uint8_t> mask(10 * 12, 0);
  for (int64_t y = y0; y < y1; ++y) {
    for (int64_t x = x0; x < x1; ++x) mask[static_cast<size_t>(y * 12 + x)] = 1;
  }
  data::Annotation annotation;
  annotation.category_id = category;
  annotation.segmentation = data::rle_encode(mask, 10, 12);
  return annotation;
}

TEST(PeakQuality, CountsInstancesFoundAndPeaksInside) {
  const data::Annotation a = rectangle(1, 0, 4, 0, 4), b = rectangle(1, 5, 9, 5, 9), c = rectangle(2, 0, 3, 8, 12);
  const std::vector<const data::Annotation*> instances = {&a, &b, &c};
  const std::vector<PixelPeak> peaks = {
      {1, 1, 1},   // inside a: a found, a right peak
      {1, 2, 2},   // a second peak in a: right, a counted once
      {2, 6, 6},   // inside b but of class 2: wrong, b not found by it
      {1, 9, 0},   // in no instance: wrong
      {2, 1, 9},   // inside c: c found
      {1, 20, 3},  // outside the image: wrong
  };
  const PeakQuality quality = peak_quality(instances, 10, 12, peaks);
  EXPECT_EQ(quality.instances, 3);
  EXPECT_EQ(quality.instances_found, 2);  // a and c
  EXPECT_EQ(quality.peaks, 6);
  EXPECT_EQ(quality.peaks_inside, 3);
  EXPECT_EQ(quality.peaks_on_other_class, 1);  // the class-2 peak inside b
  EXPECT_DOUBLE_EQ(quality.recall(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(quality.precision(), 0.5);

  PeakQuality total;
  EXPECT_TRUE(std::isnan(total.recall()) && std::isnan(total.precision()));
  total += quality;
  total += peak_quality({&b}, 10, 12, {});  // b missed, no peaks
  EXPECT_EQ(total.instances, 4);
  EXPECT_EQ(total.instances_found, 2);
  EXPECT_EQ(total.peaks, 6);
  EXPECT_EQ(total.peaks_on_other_class, 1);
  EXPECT_EQ(format_peak_quality(total),
            "peaks: recall 0.500 (2 of 4 instances), precision 0.500 (3 of 6 peaks; 1 wrong ones on another "
            "class's instance)");
}

TEST(PeakToPixel, MapsTheUpsampledGridToCellCentres) {
  // A 6 x 6 class map of stride 32 (a 192 x 192 image), upsampled x8 with align
  // corners to 48 x 48: up row 0 is map row 0, up row 47 is map row 5. Map cell i is
  // centred on pixel 32 i: conv1 (7x7/2, pad 3) centres output j on input 2 j, and so
  // does every later 3x3/2 (pad 1) and 1x1/2 layer.
  EXPECT_EQ(peak_to_pixel(3, 0, 47, 6, 6, 8, 32, 192, 192).y, 0);
  EXPECT_EQ(peak_to_pixel(3, 0, 47, 6, 6, 8, 32, 192, 192).x, 160);  // 32 * 5
  // Up row 25: map row 25 * 5 / 47 = 2.66, pixel 32 * 2.66 = 85.1 -> 85.
  const PixelPeak middle = peak_to_pixel(1, 25, 0, 6, 6, 8, 32, 192, 192);
  EXPECT_EQ(middle.category_id, 1);
  EXPECT_EQ(middle.y, 85);
  EXPECT_EQ(middle.x, 0);
  // Clamped into a smaller image; no upsampling: the cell centre itself; stride 8.
  EXPECT_EQ(peak_to_pixel(1, 5, 5, 6, 6, 1, 32, 150, 150).y, 149);
  EXPECT_EQ(peak_to_pixel(1, 2, 2, 6, 6, 1, 32, 192, 192).x, 64);
  EXPECT_EQ(peak_to_pixel(1, 47, 3, 24, 24, 2, 8, 192, 192).y, 184);  // 8 * 47 * 23 / 47
}

}  // namespace
}  // namespace wise::testing
