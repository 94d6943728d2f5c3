// Efficient graph-based image segmentation, after Felzenszwalb & Huttenlocher,
// "Efficient Graph-Based Image Segmentation", IJCV 2004: the initial regions of
// selective search (Uijlings et al. 2013, Sec. 3.1).
//
// The image is a graph: a vertex per pixel, an edge to each of the 8 neighbours weighted
// by the Euclidean colour distance of the two pixels after a Gaussian blur of `sigma`
// (FH Sec. 5: the blur removes digitisation artefacts before edges are compared). Edges
// are visited by ascending weight; two components C1, C2 are merged when the edge between
// them is no heavier than
//     MInt(C1, C2) = min(Int(C1) + k / |C1|, Int(C2) + k / |C2|)          (FH Eq. 4-5)
// where Int(C) is the largest weight of C's minimum spanning tree -- the weight of the
// edge that last merged it, since edges come in ascending order. k sets the scale: a
// larger k prefers larger components (k / |C| only matters for small ones). Components
// still smaller than min_size are then merged along the remaining edges in the same
// order (FH Sec. 4.1's post-processing).
//
// Weights are measured on channels scaled to [0, 255] so that k keeps the meaning it has
// in FH's paper and in selective search's published settings (k = 50 ... 1000 on
// 8-bit images). The result is deterministic: ties in weight are broken by edge index.
// The graph (blur + sorted edges) depends only on the image and sigma, so selective
// search builds it once per colour space and segments it at every k.
#pragma once

#include <cstdint>
#include <vector>

namespace wise::proposals {

struct GridGraph {
  int64_t height = 0;
  int64_t width = 0;
  struct Edge {
    int32_t a = 0, b = 0;  // pixel indices y * width + x
    float weight = 0;
  };
  std::vector<Edge> edges;  // ascending weight, ties by construction order
};

// image: height * width * channels floats (interleaved, row-major), channels scaled to
// [0, 1] (colour_space.h). sigma <= 0 skips the blur.
GridGraph build_grid_graph(const float* image, int64_t height, int64_t width, int64_t channels, float sigma);

struct Segmentation {
  int64_t height = 0;
  int64_t width = 0;
  std::vector<int32_t> labels;  // height * width, row-major, 0 .. count - 1
  int32_t count = 0;            // labels numbered by first pixel in row-major order
};

// FH's merge rule with scale k, then components below min_size pixels merged away.
Segmentation segment_graph(const GridGraph& graph, float k, int64_t min_size);

}  // namespace wise::proposals
