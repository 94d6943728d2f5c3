// Objectness: how much a proposal looks like a whole object, a score in (0, 1] that WISE's
// Eq. 1 samples pseudo masks by (P(G_k) = b_k / sum_j b_j), so it must be a real score,
// not only an order.
//
// Selective search itself gives no score, only an order (Uijlings et al. 2013, Sec. 3.3:
// a region's position in its hierarchy, 1 for the last merge, times a random number in
// [0, 1], lowest first). Our score is built from what a hierarchy already knows about
// each region, with no learning:
//
//   contrast     c = B / (B + I + tau)    B: mean colour contrast across the region's
//                contour, I: mean contrast of the edges inside it, tau = 8 (Lab units x
//                2.55, about a just visible step). An object's contour is where colour
//                changes most, its inside is (nearly) uniform: a part of an object has a
//                weak contour through the object, an object with background attached has
//                the object's strong contour inside it. It is FH's own merge criterion
//                (difference between vs within components) read as a score.
//   compactness q = min(1, 4 pi A / P^2)   the isoperimetric ratio, P the 4-connected
//                perimeter (image border included); thin slivers and ragged background
//                leftovers score low. Weak (q^0.25): stars and rings are objects too.
//   stability    s = (1 + n) / (1 + N)     n: how many of the N hierarchies (colour
//                spaces x k x similarity sets) produced exactly this mask. A mask found
//                under many segmentations is bounded by edges every space sees.
//
//   objectness = c * q^0.25 * s^0.5, floored at 1e-6 so it is never 0.
//
// Contrast is measured on one edge map per image, independent of the hierarchy: for the
// 4-neighbour edge between pixels p and q = p + d, the Lab distance between p - d and
// q + d (the pixels one step further out), because antialiased object borders spread a
// colour step over two pixels and a one-pixel difference sees half of it. Region
// statistics are sums over edges, so merging two regions adds their sums and moves the
// edges they share from contour to inside (objectness.cpp) without revisiting a pixel.
//
// proposals/README.md measures this score against contrast alone and Uijlings' order.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/image.h"

namespace wise::proposals {

// The contrast of every 4-neighbour edge, (H, W - 1) horizontal then (H - 1, W) vertical.
struct EdgeContrast {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<float> horizontal;  // edge (y, x) - (y, x + 1) at y * (W - 1) + x
  std::vector<float> vertical;    // edge (y, x) - (y + 1, x) at y * W + x
};

// image: RGB. Lab channels scaled as colour_space.h, distances x 255.
EdgeContrast compute_edge_contrast(const data::Image& image);

// A region's edge sums; merging adds two regions' sums (region_shape_merge).
struct RegionShape {
  int64_t area = 0;
  int64_t contour_edges = 0;     // edges to pixels of the image outside the region
  double contour_contrast = 0;   // their summed contrast
  int64_t border_edges = 0;      // pixel sides on the image border
  int64_t inside_edges = 0;      // edges between two pixels of the region
  double inside_contrast = 0;
};

// a and b sharing `shared_edges` edges of summed contrast `shared_contrast`.
RegionShape region_shape_merge(const RegionShape& a, const RegionShape& b, int64_t shared_edges,
                               double shared_contrast);

enum class ObjectnessMethod {
  combined,       // c * q^0.25 * s^0.5 (the default)
  contrast,       // c alone
  uijlings_rank,  // 1 / (1 + position * random): Uijlings' order, made a score
};
const char* objectness_method_name(ObjectnessMethod method);
ObjectnessMethod parse_objectness_method(const std::string& text);

float contour_contrast(const RegionShape& shape);
float compactness(const RegionShape& shape);

// hierarchies: N above; found_in: n. rank_value: position * random (uijlings_rank only).
float objectness(ObjectnessMethod method, const RegionShape& shape, int64_t found_in, int64_t hierarchies,
                 double rank_value);

}  // namespace wise::proposals
