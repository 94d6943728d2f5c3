// Felzenszwalb-Huttenlocher graph segmentation (see graph_segmentation.h).
#include "proposals/graph_segmentation.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/check.h"

namespace wise::proposals {
namespace {

// Separable Gaussian blur with clamped borders; the kernel spans ceil(4 sigma) pixels on
// each side (FH's own code uses the same 4-sigma support).
std::vector<float> gaussian_blur(const float* image, int64_t height, int64_t width, int64_t channels,
                                 float sigma) {
  const int64_t n = height * width * channels;
  std::vector<float> out(image, image + n);
  if (sigma <= 0) return out;
  const int64_t radius = static_cast<int64_t>(std::ceil(4.0f * sigma));
  std::vector<float> kernel(static_cast<size_t>(radius + 1));
  float total = 0;
  for (int64_t i = 0; i <= radius; ++i) {
    kernel[static_cast<size_t>(i)] = std::exp(-0.5f * static_cast<float>(i * i) / (sigma * sigma));
    total += i == 0 ? kernel[0] : 2.0f * kernel[static_cast<size_t>(i)];
  }
  for (float& weight : kernel) weight /= total;
  std::vector<float> tmp(static_cast<size_t>(n));
  auto pass = [&](const float* in, float* result, bool horizontal) {
    for (int64_t y = 0; y < height; ++y) {
      for (int64_t x = 0; x < width; ++x) {
        for (int64_t c = 0; c < channels; ++c) {
          float sum = 0;
          for (int64_t i = -radius; i <= radius; ++i) {
            const int64_t yy = horizontal ? y : std::clamp<int64_t>(y + i, 0, height - 1);
            const int64_t xx = horizontal ? std::clamp<int64_t>(x + i, 0, width - 1) : x;
            sum += kernel[static_cast<size_t>(std::abs(i))] * in[(yy * width + xx) * channels + c];
          }
          result[(y * width + x) * channels + c] = sum;
        }
      }
    }
  };
  pass(image, tmp.data(), true);
  pass(tmp.data(), out.data(), false);
  return out;
}

// Union-find with union by rank and path halving; Int(C) and |C| kept at the root.
struct Forest {
  std::vector<int32_t> parent, rank, size;
  std::vector<float> internal;

  explicit Forest(int64_t n)
      : parent(static_cast<size_t>(n)), rank(static_cast<size_t>(n), 0), size(static_cast<size_t>(n), 1),
        internal(static_cast<size_t>(n), 0.0f) {
    for (int64_t i = 0; i < n; ++i) parent[static_cast<size_t>(i)] = static_cast<int32_t>(i);
  }
  int32_t find(int32_t v) {
    while (parent[v] != v) {
      parent[v] = parent[parent[v]];
      v = parent[v];
    }
    return v;
  }
  void join(int32_t a, int32_t b, float weight) {
    if (rank[a] < rank[b]) std::swap(a, b);
    parent[b] = a;
    size[a] += size[b];
    if (rank[a] == rank[b]) ++rank[a];
    internal[a] = weight;  // the heaviest MST edge so far: edges arrive in ascending order
  }
};

}  // namespace

GridGraph build_grid_graph(const float* image, int64_t height, int64_t width, int64_t channels, float sigma) {
  WISE_CHECK(height > 0 && width > 0 && channels > 0, "build_grid_graph: empty image ", height, " x ", width, " x ",
             channels);
  WISE_CHECK(height * width < (int64_t{1} << 29), "build_grid_graph: ", height, " x ", width,
             " is too large (edge indices are 32-bit)");
  const std::vector<float> smooth = gaussian_blur(image, height, width, channels, sigma);
  GridGraph graph;
  graph.height = height;
  graph.width = width;
  graph.edges.reserve(static_cast<size_t>(height * width * 4));
  auto add = [&](int64_t y, int64_t x, int64_t y2, int64_t x2) {
    const float* p = smooth.data() + (y * width + x) * channels;
    const float* q = smooth.data() + (y2 * width + x2) * channels;
    float sum = 0;
    for (int64_t c = 0; c < channels; ++c) {
      const float d = 255.0f * (p[c] - q[c]);
      sum += d * d;
    }
    graph.edges.push_back({static_cast<int32_t>(y * width + x), static_cast<int32_t>(y2 * width + x2), std::sqrt(sum)});
  };
  for (int64_t y = 0; y < height; ++y) {
    for (int64_t x = 0; x < width; ++x) {
      if (x + 1 < width) add(y, x, y, x + 1);
      if (y + 1 < height) add(y, x, y + 1, x);
      if (x + 1 < width && y + 1 < height) add(y, x, y + 1, x + 1);
      if (x > 0 && y + 1 < height) add(y, x, y + 1, x - 1);
    }
  }
  // Sort by (weight, index) through one 64-bit key: a non-negative float's bits order
  // like the float, so the sort is a plain integer sort and ties are deterministic.
  std::vector<uint64_t> keys(graph.edges.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &graph.edges[i].weight, 4);
    keys[i] = (uint64_t{bits} << 32) | i;
  }
  std::sort(keys.begin(), keys.end());
  std::vector<GridGraph::Edge> sorted(keys.size());
  for (size_t i = 0; i < keys.size(); ++i) sorted[i] = graph.edges[keys[i] & 0xffffffffu];
  graph.edges = std::move(sorted);
  return graph;
}

Segmentation segment_graph(const GridGraph& graph, float k, int64_t min_size) {
  const int64_t pixels = graph.height * graph.width;
  Forest forest(pixels);
  for (const GridGraph::Edge& edge : graph.edges) {
    const int32_t a = forest.find(edge.a), b = forest.find(edge.b);
    if (a == b) continue;
    // FH Eq. 5: merge unless the edge is heavier than either side's tolerance.
    const float tolerance_a = forest.internal[a] + k / static_cast<float>(forest.size[a]);
    const float tolerance_b = forest.internal[b] + k / static_cast<float>(forest.size[b]);
    if (edge.weight <= std::min(tolerance_a, tolerance_b)) forest.join(a, b, edge.weight);
  }
  for (const GridGraph::Edge& edge : graph.edges) {
    const int32_t a = forest.find(edge.a), b = forest.find(edge.b);
    if (a != b && (forest.size[a] < min_size || forest.size[b] < min_size)) forest.join(a, b, edge.weight);
  }
  Segmentation segmentation;
  segmentation.height = graph.height;
  segmentation.width = graph.width;
  segmentation.labels.resize(static_cast<size_t>(pixels));
  std::vector<int32_t> label_of_root(static_cast<size_t>(pixels), -1);
  for (int64_t p = 0; p < pixels; ++p) {
    const int32_t root = forest.find(static_cast<int32_t>(p));
    if (label_of_root[root] < 0) label_of_root[root] = segmentation.count++;
    segmentation.labels[static_cast<size_t>(p)] = label_of_root[root];
  }
  return segmentation;
}

}  // namespace wise::proposals
