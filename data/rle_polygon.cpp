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

// rleFrPoly walks every edge from vertex j to vertex j + 1 (closing back to vertex 0) one
// upsampled unit at a time along its major axis (steep edges and edges walked "backward"
// flipped so that it steps forward, the points then written in the original direction)
// and keeps every point: a polygon reaching 1e6 pixels away holds 5e6 points per edge. It
// then looks at each consecutive pair of points, and only a pair that changes column
// into a pixel centre's column toggles the mask. An edge here gives its point at any
// step t directly, so that only those pairs are visited.
struct UpsampledEdge {
  int xs, ys, dx, dy;
  bool u_major;  // dx >= dy: t steps u, v = (int)(ys + s t + .5)
  bool flip;     // walked from t = length down to 0
  double s;      // the minor coordinate's change per step

  UpsampledEdge(int x0, int y0, int x1, int y1) {
    xs = x0, ys = y0;
    int xe = x1, ye = y1;
    dx = std::abs(xe - xs), dy = std::abs(ys - ye);
    flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      std::swap(xs, xe);
      std::swap(ys, ye);
    }
    u_major = dx >= dy;
    // For a zero-length edge (a repeated vertex) pycocotools computes 0/0 and casts NaN to
    // int; that single point shares its column with both neighbours, so no toggle reads
    // its row, and s = 0 gives the same mask without the undefined cast.
    s = u_major ? (dx == 0 ? 0.0 : static_cast<double>(ye - ys) / dx) : static_cast<double>(xe - xs) / dy;
  }
  int length() const { return u_major ? dx : dy; }
  UpsampledPoint at(int t) const {
    return u_major ? UpsampledPoint{t + xs, static_cast<int>(ys + s * t + .5)}
                   : UpsampledPoint{static_cast<int>(xs + s * t + .5), t + ys};
  }
  UpsampledPoint first() const { return at(flip ? length() : 0); }  // in walk order
  UpsampledPoint last() const { return at(flip ? 0 : length()); }
};

// rleFrPoly's test of one consecutive pair (p then q) of the walk: when q changes column
// into a pixel centre's column, the pixel at which the mask toggles in that column (its
// row clamped to [0, h]), as a column-major position x * h + y.
void add_toggle(UpsampledPoint p, UpsampledPoint q, int64_t height, int64_t width, std::vector<uint32_t>& toggles) {
  if (q.u == p.u) return;
  double xd = q.u < p.u ? q.u : q.u - 1;
  xd = (xd + .5) / kUpsample - .5;
  if (std::floor(xd) != xd || xd < 0 || xd > static_cast<double>(width - 1)) return;
  double yd = std::min(q.v, p.v);
  yd = (yd + .5) / kUpsample - .5;
  const double h = static_cast<double>(height);
  if (yd < 0) {
    yd = 0;
  } else if (yd > h) {
    yd = h;
  }
  yd = std::ceil(yd);
  // pycocotools computes x * h + y in int and casts to uint; int64 gives the same value
  // without overflowing on images over 2^31 pixels.
  toggles.push_back(static_cast<uint32_t>(static_cast<int64_t>(xd) * height + static_cast<int64_t>(yd)));
}

// The toggles of the pairs inside one edge: those whose lower column is a pixel centre's,
// u = 5 c + 2 for a column c in [0, width) ((u + .5) / 5 - .5 is then exactly c). Within
// an edge u moves by at most one per step (|s| < 1 on a steep edge), and either order of
// a pair gives the same toggle, so each such u is one pair (t, t + 1), found directly on a
// shallow edge (u = t + xs) and by bisection on a steep one (u(t) is monotone in t).
void add_edge_toggles(const UpsampledEdge& edge, int64_t height, int64_t width, std::vector<uint32_t>& toggles) {
  const int n = edge.length();
  if (n == 0) return;
  const int64_t u0 = edge.at(0).u, un = edge.at(n).u;
  const int64_t low = std::min(u0, un), high = std::max(u0, un);  // the pairs' lower u: [low, high)
  // The centre columns' u in [low, high): 5 c + 2 from the first c with 5 c + 2 >= low.
  const int64_t first_column = low <= 2 ? 0 : (low - 2 + 4) / 5;
  for (int64_t c = first_column; c < width && 5 * c + 2 < high; ++c) {
    const int64_t u = 5 * c + 2;
    int t;  // the pair is (t, t + 1)
    if (edge.u_major) {
      t = static_cast<int>(u - edge.xs);
    } else {
      // The first t whose point has left column u (u(t) > u when increasing, u(t) <= u
      // when decreasing): the pair ends there.
      const bool increasing = un > u0;
      int first = 0, last = n;  // the answer lies in (first, last]
      while (last - first > 1) {
        const int middle = first + (last - first) / 2;
        const int64_t at = edge.at(middle).u;
        if (increasing ? at > u : at <= u) {
          last = middle;
        } else {
          first = middle;
        }
      }
      t = last - 1;
    }
    add_toggle(edge.at(t), edge.at(t + 1), height, width, toggles);
  }
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
  // The pairs inside each edge, then each pair of an edge's last point and the next
  // edge's first (the walk's pairs across vertices; there is none from the last edge back
  // to the first).
  std::vector<uint32_t> toggles;
  std::vector<UpsampledEdge> edges;
  edges.reserve(k);
  for (size_t j = 0; j < k; ++j) edges.emplace_back(x[j], y[j], x[j + 1], y[j + 1]);
  for (size_t j = 0; j < k; ++j) {
    add_edge_toggles(edges[j], height, width, toggles);
    if (j + 1 < k) add_toggle(edges[j].last(), edges[j + 1].first(), height, width, toggles);
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
