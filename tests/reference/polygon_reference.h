// pycocotools' rleFrPoly as written (every upsampled boundary point in memory): the
// reference data/rle_polygon.h's rle_from_polygon is tested against on polygons of any
// size, huge and negative coordinates included.
#pragma once

#include <cstdint>
#include <vector>

#include "data/rle.h"

namespace wise::reference {

// The mask of polygon xy (x0, y0, x1, y1, ...) in a height x width image; xy must be
// what rle_from_polygon accepts (an even count of finite values within +-1e6).
data::Rle rle_from_polygon_walk(const std::vector<double>& xy, int64_t height, int64_t width);

}  // namespace wise::reference
