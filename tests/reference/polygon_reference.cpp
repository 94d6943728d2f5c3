// The reference for data/rle_polygon.h's rle_from_polygon: pycocotools' rleFrPoly as
// written, one point per upsampled step of every edge kept in memory, then every
// consecutive pair of the walk examined. wise's version enumerates only the steps that
// can toggle a pixel column (so a huge polygon costs no memory); this one is what it must
// equal, mask for mask. Compiled with -ffp-contract=off like the original.
#include "tests/reference/polygon_reference.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace wise::reference {
namespace {

constexpr double kUpsample = 5;         // rleFrPoly's `scale`

// One point of the upsampled boundary walk (pycocotools' u[], v[]).
struct UpsampledPoint {
  int u;  // column, in 1/5 pixels
  int v;  // row, in 1/5 pixels
};

// Walks every edge from vertex j to vertex j + 1 (closing back to vertex 0), one step
// per upsampled unit along the edge's major axis. Steep edges and edges walked "backward"
// are flipped so that the walk always steps forward, then the points are written in the
// original direction, exactly as rleFrPoly does.
std::vector<UpsampledPoint> walk_upsampled_boundary(const std::vector<int>& x,
                                                    const std::vector<int>& y) {
  const size_t k = x.size() - 1;  // x[k] == x[0] closes the polygon
  std::vector<UpsampledPoint> points;
  size_t total = 0;
  for (size_t j = 0; j < k; ++j) {
    total +=
        static_cast<size_t>(std::max(std::abs(x[j] - x[j + 1]), std::abs(y[j] - y[j + 1]))) + 1;
  }
  points.reserve(total);
  for (size_t j = 0; j < k; ++j) {
    int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const int dx = std::abs(xe - xs), dy = std::abs(ys - ye);
    const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      std::swap(xs, xe);
      std::swap(ys, ye);
    }
    // s: the minor coordinate's change per major step. For a zero-length edge (a
    // repeated vertex) pycocotools computes 0/0 and casts NaN to int; that single point
    // shares its column with both neighbours, so the downsampling below never reads its
    // row, and s = 0 gives the same mask without the undefined cast.
    if (dx >= dy) {
      const double s = dx == 0 ? 0.0 : static_cast<double>(ye - ys) / dx;
      for (int d = 0; d <= dx; ++d) {
        const int t = flip ? dx - d : d;
        points.push_back({t + xs, static_cast<int>(ys + s * t + .5)});
      }
    } else {
      const double s = static_cast<double>(xe - xs) / dy;
      for (int d = 0; d <= dy; ++d) {
        const int t = flip ? dy - d : d;
        points.push_back({static_cast<int>(xs + s * t + .5), t + ys});
      }
    }
  }
  return points;
}

}  // namespace

data::Rle rle_from_polygon_walk(const std::vector<double>& xy, int64_t height, int64_t width) {
  // The caller passes what rle_from_polygon accepts (checked there).
  const size_t k = xy.size() / 2;
  if (k == 0 || height == 0 || width == 0) {
    return data::Rle{height, width, {static_cast<uint32_t>(height * width)}};  // all background
  }

  // Upsampled, rounded vertices; (int)(v + .5) truncates toward zero like C's cast.
  std::vector<int> x(k + 1), y(k + 1);
  for (size_t j = 0; j < k; ++j) x[j] = static_cast<int>(kUpsample * xy[j * 2 + 0] + .5);
  for (size_t j = 0; j < k; ++j) y[j] = static_cast<int>(kUpsample * xy[j * 2 + 1] + .5);
  x[k] = x[0];
  y[k] = y[0];
  const std::vector<UpsampledPoint> walk = walk_upsampled_boundary(x, y);

  // Where the walk crosses into a new upsampled column that is a pixel centre, record
  // the pixel at which the mask toggles in that column (its row, clamped to [0, h]).
  const double h = static_cast<double>(height);
  const double last_column = static_cast<double>(width - 1);
  std::vector<uint32_t> toggles;  // column-major positions x * h + y
  for (size_t j = 1; j < walk.size(); ++j) {
    if (walk[j].u == walk[j - 1].u) continue;
    double xd = walk[j].u < walk[j - 1].u ? walk[j].u : walk[j].u - 1;
    xd = (xd + .5) / kUpsample - .5;
    if (std::floor(xd) != xd || xd < 0 || xd > last_column) continue;
    double yd = std::min(walk[j].v, walk[j - 1].v);
    yd = (yd + .5) / kUpsample - .5;
    if (yd < 0) {
      yd = 0;
    } else if (yd > h) {
      yd = h;
    }
    yd = std::ceil(yd);
    // pycocotools computes x * h + y in int and casts to uint; int64 gives the same
    // value without overflowing on images over 2^31 pixels.
    toggles.push_back(
        static_cast<uint32_t>(static_cast<int64_t>(xd) * height + static_cast<int64_t>(yd)));
  }
  toggles.push_back(static_cast<uint32_t>(height * width));
  std::sort(toggles.begin(), toggles.end());

  // Positions to run lengths; a zero-length run (two toggles at one position) cancels:
  // it is folded into the previous run together with the run after it.
  uint32_t previous = 0;
  for (uint32_t& position : toggles) {
    const uint32_t here = position;
    position -= previous;
    previous = here;
  }
  data::Rle rle{height, width, {}};
  size_t j = 0;
  rle.counts.push_back(toggles[j++]);
  while (j < toggles.size()) {
    if (toggles[j] > 0) {
      rle.counts.push_back(toggles[j++]);
    } else {
      ++j;
      if (j < toggles.size()) rle.counts.back() += toggles[j++];
    }
  }
  return rle;
}

}  // namespace wise::reference
