// Polygons to RLE and RLE union/intersection, bit-exact with pycocotools
// (maskApi.c's rleFrPoly and rleMerge), so that a COCO polygon annotation becomes the
// same mask here as in pycocotools' annToRLE, detectron2 and COCOeval.
//
// How rleFrPoly rasterizes (and therefore how we do): vertices are scaled by 5 and
// rounded ((int)(5 * v + 0.5), truncating toward zero for negatives); each edge is
// walked one upsampled step at a time along its major axis, the minor coordinate rounded
// the same way; wherever the walk changes upsampled column, a boundary point is kept if
// that column is exactly a pixel centre ((u + 0.5) / 5 - 0.5 an integer in [0, w-1]),
// its row being ceil((v + 0.5) / 5 - 0.5) clamped to [0, h]. The sorted column-major
// positions of these points are the run boundaries. A pixel is therefore inside when
// its centre is, up to the 1/5-pixel snapping; self-intersecting polygons follow the
// even-odd rule, and parts outside the image are clipped.
//
// The arithmetic must round exactly as pycocotools' C does: rle_polygon.cpp is compiled
// with -ffp-contract=off (data/CMakeLists.txt), since a fused multiply-add in
// `ys + s * t + 0.5` or `5 * x + 0.5` moves pixels on boundaries.
#pragma once

#include <cstdint>
#include <vector>

#include "data/rle.h"

namespace wise::data {

// xy: [x0, y0, x1, y1, ...] in pixels (x to the right, y down, pixel centres at
// integers). An odd count is an error; an empty polygon gives an empty mask. Coordinates
// must lie within +-1e6 pixels (pycocotools would overflow its integers beyond ~4e8).
// pycocotools holds a point per 1/5 pixel of edge; here the cost is per pixel column an
// edge crosses, so a polygon reaching far outside a small image costs what a small one
// does (rle_polygon.cpp). height and width must be non-negative.
Rle rle_from_polygon(const std::vector<double>& xy, int64_t height, int64_t width);

// pycocotools' merge: the union (intersect = false) or intersection of masks of one
// size, with its exact run layout. One mask is returned unchanged; none is an error
// (pycocotools returns a 0 x 0 mask, which no caller wants). Sizes must agree.
Rle rle_merge(const std::vector<Rle>& rles, bool intersect);

}  // namespace wise::data
