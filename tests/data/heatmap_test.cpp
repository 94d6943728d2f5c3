// data/heatmap.h: the palette's anchors and ordering, and the blend's arithmetic.
#include "data/heatmap.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace wise::data {
namespace {

double luminance(Color c) { return 0.2126 * c.red + 0.7152 * c.green + 0.0722 * c.blue; }

TEST(HeatColor, EndsAtItsAnchorsAndBrightensMonotonically) {
  EXPECT_EQ(heat_color(0).red, 0);
  EXPECT_EQ(heat_color(0).blue, 4);
  EXPECT_EQ(heat_color(1).red, 252);
  EXPECT_EQ(heat_color(1).blue, 164);
  EXPECT_EQ(heat_color(-3).blue, heat_color(0).blue);  // clamped
  EXPECT_EQ(heat_color(7).green, heat_color(1).green);
  EXPECT_EQ(heat_color(NAN).blue, heat_color(0).blue);
  // Halfway between anchors 1 (87, 16, 110) and 2 (188, 55, 84): t = 0.375.
  EXPECT_EQ(heat_color(0.375).red, 138);  // 137.5 rounds away from zero
  EXPECT_EQ(heat_color(0.375).green, 36);
  EXPECT_EQ(heat_color(0.375).blue, 97);
  for (int i = 1; i <= 100; ++i) EXPECT_GT(luminance(heat_color(i / 100.0)), luminance(heat_color((i - 1) / 100.0))) << i;
}

TEST(HeatOverlay, BlendsTheScaledValuesOverTheImage) {
  const Image gray{1, 3, 1, {100, 100, 100}};
  const std::vector<float> values{2, 4, 6};  // -> t = 0, 0.5, 1 on [2, 6]
  const Image out = heat_overlay(gray, values.data(), 2, 6, 0.25);
  ASSERT_EQ(out.channels, 3);
  for (int p = 0; p < 3; ++p) {
    const Color heat = heat_color(p / 2.0);
    EXPECT_EQ(out.pixels[p * 3 + 0], static_cast<uint8_t>(std::lround(0.75 * 100 + 0.25 * heat.red)));
    EXPECT_EQ(out.pixels[p * 3 + 1], static_cast<uint8_t>(std::lround(0.75 * 100 + 0.25 * heat.green)));
    EXPECT_EQ(out.pixels[p * 3 + 2], static_cast<uint8_t>(std::lround(0.75 * 100 + 0.25 * heat.blue)));
  }
  const Image flat = heat_overlay(gray, values.data(), 5, 5, 1.0);  // no range: all t = 0
  EXPECT_EQ(flat.pixels[3 * 2 + 2], heat_color(0).blue);
  EXPECT_THROW(heat_overlay(Image{1, 1, 4, {1, 2, 3, 4}}, values.data(), 0, 1), std::invalid_argument);
  EXPECT_THROW(heat_overlay(gray, values.data(), 0, 1, 1.5), std::invalid_argument);
}

}  // namespace
}  // namespace wise::data
