// data/rle_polygon.h's rle_from_polygon against pycocotools' rleFrPoly as written
// (tests/reference/polygon_reference.h: every upsampled point in memory): random polygons
// inside, around and far outside small images, negative and fractional coordinates,
// repeated vertices, steep, shallow and diagonal edges, all mask for mask, and a polygon
// reaching 1e6 pixels away (the walk holds 10^7 points of it; ours visits ~100).
// (The masks' parity with pycocotools itself: coco_rle_parity_test.cpp.)
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "data/rle.h"
#include "data/rle_polygon.h"
#include "tests/reference/polygon_reference.h"

namespace wise::data {
namespace {

TEST(RlePolygon, EqualsTheFullWalkOnRandomPolygons) {
  std::mt19937 random(20261203);
  for (int trial = 0; trial < 10000; ++trial) {
    const int64_t height = 1 + random() % 40, width = 1 + random() % 40;
    const int vertices = 1 + static_cast<int>(random() % 8);
    // Spread: inside the image, a little around it, or far away (edges crossing it).
    const double spread = trial % 3 == 0 ? 1.0 : trial % 3 == 1 ? 3.0 : 200.0;
    std::uniform_real_distribution<double> coordinate(-spread * 40, spread * 40 + 40);
    std::vector<double> xy;
    for (int v = 0; v < vertices; ++v) {
      double x = coordinate(random), y = coordinate(random);
      if (trial % 5 == 0) {  // on the 1/5-pixel grid, where rounding ties live
        x = std::round(x * 5) / 5;
        y = std::round(y * 5) / 5;
      }
      if (v > 0 && random() % 6 == 0) {  // a repeated vertex, or an axis-parallel or diagonal edge
        const int kind = static_cast<int>(random() % 4);
        if (kind == 0) x = xy[xy.size() - 2], y = xy.back();
        if (kind == 1) x = xy[xy.size() - 2];
        if (kind == 2) y = xy.back();
        if (kind == 3) y = xy.back() + (x - xy[xy.size() - 2]);
      }
      xy.push_back(x);
      xy.push_back(y);
    }
    const Rle expected = reference::rle_from_polygon_walk(xy, height, width);
    const Rle actual = rle_from_polygon(xy, height, width);
    ASSERT_EQ(actual.counts, expected.counts) << "trial " << trial << ", " << height << " x " << width;
  }
}

TEST(RlePolygon, AHugePolygonEqualsTheFullWalk) {
  // Five vertices up to 1e6 pixels out (the bound): the full walk holds ~2.4e7 points.
  const std::vector<double> xy = {-1e6, -1e6, 1e6, -999999.3, 999999.9, 1e6, -1e6, 1e6, 20.4, 30.6};
  EXPECT_EQ(rle_from_polygon(xy, 64, 48).counts, reference::rle_from_polygon_walk(xy, 64, 48).counts);
}

}  // namespace
}  // namespace wise::data
