// pycocotools' rleFrPoly and rleMerge (see rle_polygon.h), step by step, in the same
// integer and double arithmetic so the masks agree bit for bit.
#include "data/rle_polygon.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "data/number_text.h"

namespace wise::data {
namespace {

constexpr double kUpsample = 5;         // rleFrPoly's `scale`
constexpr double kMaxCoordinate = 1e6;  // see rle_polygon.h

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

Rle rle_from_polygon(const std::vector<double>& xy, int64_t height, int64_t width) {
  if (height < 0 || width < 0) {
    throw std::invalid_argument("rle_from_polygon: negative mask size " + std::to_string(height) +
                                " x " + std::to_string(width));
  }
  if (xy.size() % 2 != 0) {
    throw std::invalid_argument("rle_from_polygon: polygon has " + std::to_string(xy.size()) +
                                " coordinates, expected an even count (x, y pairs)");
  }
  for (size_t i = 0; i < xy.size(); ++i) {
    if (!(std::fabs(xy[i]) <= kMaxCoordinate)) {  // also rejects NaN
      throw std::invalid_argument("rle_from_polygon: coordinate " + std::to_string(i) + " is " +
                                  number_text(xy[i]) + ", expected a finite value within +-1e6");
    }
  }
  const size_t k = xy.size() / 2;
  if (k == 0 || height == 0 || width == 0) return rle_empty(height, width);

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
  Rle rle{height, width, {}};
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

Rle rle_merge(const std::vector<Rle>& rles, bool intersect) {
  if (rles.empty()) throw std::invalid_argument("rle_merge: no masks to merge");
  for (size_t i = 0; i < rles.size(); ++i) {
    rle_check(rles[i], "rle_merge: mask " + std::to_string(i));
    if (rles[i].height != rles[0].height || rles[i].width != rles[0].width) {
      throw std::invalid_argument(
          "rle_merge: mask " + std::to_string(i) + " is " + std::to_string(rles[i].height) + " x " +
          std::to_string(rles[i].width) + ", expected the size of mask 0, " +
          std::to_string(rles[0].height) + " x " + std::to_string(rles[0].width));
    }
  }
  if (rles.size() == 1) return rles[0];

  // Fold the masks in one by one, walking both run lists together; a run ends whenever
  // the combined value changes or both inputs are exhausted (rleMerge's loop).
  std::vector<uint32_t> merged = rles[0].counts;
  for (size_t i = 1; i < rles.size(); ++i) {
    const std::vector<uint32_t> a_counts = std::move(merged);
    const std::vector<uint32_t>& b_counts = rles[i].counts;
    merged.clear();
    uint32_t ca = a_counts.empty() ? 0 : a_counts[0];
    uint32_t cb = b_counts.empty() ? 0 : b_counts[0];
    bool v = false, va = false, vb = false;
    size_t a = 1, b = 1;
    uint32_t cc = 0, ct = 1;
    while (ct > 0) {
      const uint32_t c = std::min(ca, cb);
      cc += c;
      ct = 0;
      ca -= c;
      if (!ca && a < a_counts.size()) {
        ca = a_counts[a++];
        va = !va;
      }
      ct += ca;
      cb -= c;
      if (!cb && b < b_counts.size()) {
        cb = b_counts[b++];
        vb = !vb;
      }
      ct += cb;
      const bool vp = v;
      v = intersect ? (va && vb) : (va || vb);
      if (v != vp || ct == 0) {
        merged.push_back(cc);
        cc = 0;
      }
    }
  }
  return Rle{rles[0].height, rles[0].width, std::move(merged)};
}

}  // namespace wise::data
