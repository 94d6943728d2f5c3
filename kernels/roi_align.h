// RoIAlign (Mask R-CNN, He et al. 2017, Sec. 3) and multi-level RoIAlign (FPN, Lin et
// al. 2017, Eq. 1), torchvision.ops.roi_align / MultiScaleRoIAlign semantics (0.14).
//
// For a RoI (batch_index, x1, y1, x2, y2) in image coordinates and one feature level of
// spatial_scale s, the RoI in feature coordinates starts at (x1 s - o, y1 s - o) and
// ends at (x2 s - o, y2 s - o), o = 0.5 when aligned (half-pixel centres), else 0; when
// not aligned its width and height are raised to at least 1 (torchvision's legacy rule).
// It is cut into pooled_height x pooled_width bins; each bin averages a grid of
// grid_h x grid_w bilinear samples at the sub-bin centres,
//   y = start_h + ph bin_h + (iy + 1/2) bin_h / grid_h     (x likewise),
// grid = sampling_ratio when > 0, else ceil(roi_size / pooled_size) (adaptive; 0 for an
// empty or inverted RoI, whose bins then give 0). A sample outside [-1, H] x [-1, W]
// contributes 0; coordinates in [-1, 0] clamp to 0, and at the last row/column both taps
// are the edge (torchvision's bilinear_interpolate). output = sum of samples / max(count, 1).
//
// Multi-level (FPN Eq. 1, torchvision's LevelMapper): a RoI of area A = (x2-x1)(y2-y1)
// goes to level k = floor(4 + log2(sqrt(A) / 224) + 1e-6) clamped to [k_min, k_max], in
// float as torch computes it. A RoI whose k is NaN (NaN box, negative area) is on no
// level: torch's `levels == level` matches nothing there, so its output is 0 and it
// sends no gradient. The levels' spatial scales are 2^-k_min, 2^-(k_min+1), ...
//
// Non-finite and invalid RoIs never read out of bounds: a non-finite sample coordinate
// fails the `!(in range)` test and contributes 0, a non-finite adaptive grid is 0, and a
// RoI whose batch index is not in [0, N) gives 0. torchvision 0.14 agrees for adaptive
// sampling (0) but segfaults for NaN/inf boxes with sampling_ratio > 0; ours gives 0.
// The adaptive grid is capped at kRoiAlignMaxGrid per axis so a huge box cannot hang the
// kernel (torchvision has no cap; a box must exceed 1024 bins' worth of pixels to reach it).
//
// Forward: a gather, one element per (roi, c, ph, pw); deterministic.
// Backward: a scatter of d_output through the same weights, d_sample / count per tap.
//   CPU: one element per (level, n, c) plane, looping over the RoIs of image n (on that
//   level) in order: race-free, bitwise identical at any thread count, and the same
//   order of additions as torchvision's serial CPU loop.
//   CUDA: one element per (roi, c, ph, pw) with atomicAdd: not deterministic (float
//   additions in varying order), as torchvision's CUDA kernel.
// Both run the one roi_align_bin function below; only the `add` differs.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/device.h"
#include "kernels/host_device.h"

namespace wise::kernels {

inline constexpr int kRoiAlignMaxLevels = 8;
inline constexpr int64_t kRoiAlignMaxGrid = 1024;

struct RoiAlignParameters {
  int64_t pooled_height = 7;
  int64_t pooled_width = 7;
  int64_t sampling_ratio = 2;  // <= 0: adaptive
  bool aligned = false;
};

// One feature level: a (N, C, H, W) plain tensor and its spatial scale.
template <class Pointer>
struct RoiAlignLevel {
  Pointer data = nullptr;
  int64_t height = 0, width = 0;
  float spatial_scale = 1.0f;
};

// Up to kRoiAlignMaxLevels levels, passed by value to the kernels. map_levels = false:
// one level, every RoI on it (plain RoIAlign); true: FPN's level mapper, level l having
// scale 2^-(k_min + l).
template <class Pointer>
struct RoiAlignLevels {
  RoiAlignLevel<Pointer> level[kRoiAlignMaxLevels];
  int count = 1;
  bool map_levels = false;
  int k_min = 2;
};

// The RoI-to-bin geometry of one RoI on one level.
struct RoiAlignGeometry {
  float start_h, start_w;  // RoI's top-left in feature coordinates
  float bin_h, bin_w;      // bin size
  int64_t grid_h, grid_w;  // samples per bin along each axis
  float count;             // max(grid_h grid_w, 1): the divisor of each bin
};

// Adaptive grid: ceil(roi_size / pooled), 0 when that is not > 0 (empty, inverted, NaN).
WISE_HD inline int64_t roi_align_grid(int64_t sampling_ratio, float roi_size, int64_t pooled) {
  if (sampling_ratio > 0) return sampling_ratio;
  const float grid = ceilf(roi_size / static_cast<float>(pooled));
  if (!(grid > 0.0f)) return 0;
  return grid < static_cast<float>(kRoiAlignMaxGrid) ? static_cast<int64_t>(grid)
                                                     : kRoiAlignMaxGrid;
}

// roi points at (batch_index, x1, y1, x2, y2). Float arithmetic in torchvision's order.
WISE_HD inline RoiAlignGeometry roi_align_bin_geometry(const float* roi, float spatial_scale,
                                                       const RoiAlignParameters& p) {
  const float offset = p.aligned ? 0.5f : 0.0f;
  const float start_w = roi[1] * spatial_scale - offset;
  const float start_h = roi[2] * spatial_scale - offset;
  float roi_w = roi[3] * spatial_scale - offset - start_w;
  float roi_h = roi[4] * spatial_scale - offset - start_h;
  if (!p.aligned) {  // legacy: a RoI is at least 1 x 1 (NaN stays NaN, as torch's max)
    roi_w = roi_w < 1.0f ? 1.0f : roi_w;
    roi_h = roi_h < 1.0f ? 1.0f : roi_h;
  }
  RoiAlignGeometry g;
  g.start_h = start_h;
  g.start_w = start_w;
  g.bin_h = roi_h / static_cast<float>(p.pooled_height);
  g.bin_w = roi_w / static_cast<float>(p.pooled_width);
  g.grid_h = roi_align_grid(p.sampling_ratio, roi_h, p.pooled_height);
  g.grid_w = roi_align_grid(p.sampling_ratio, roi_w, p.pooled_width);
  g.count = static_cast<float>(max_of<int64_t>(g.grid_h * g.grid_w, 1));
  return g;
}

// The four taps of one bilinear sample and their weights; weights 0 and taps at 0 when
// the sample is outside [-1, H] x [-1, W] or not finite.
struct BilinearSample {
  int64_t y_low, x_low, y_high, x_high;
  float w1, w2, w3, w4;  // (y_low, x_low), (y_low, x_high), (y_high, x_low), (y_high, x_high)
  bool inside;
};

WISE_HD inline BilinearSample roi_align_bilinear_sample(float y, float x, int64_t H, int64_t W) {
  BilinearSample s{0, 0, 0, 0, 0.0f, 0.0f, 0.0f, 0.0f, false};
  // The !(in range) form: NaN coordinates land here too.
  if (!(y >= -1.0f && y <= static_cast<float>(H) && x >= -1.0f && x <= static_cast<float>(W))) {
    return s;
  }
  y = y <= 0.0f ? 0.0f : y;
  x = x <= 0.0f ? 0.0f : x;
  s.y_low = static_cast<int64_t>(y);
  s.x_low = static_cast<int64_t>(x);
  if (s.y_low >= H - 1) {
    s.y_low = s.y_high = H - 1;
    y = static_cast<float>(s.y_low);
  } else {
    s.y_high = s.y_low + 1;
  }
  if (s.x_low >= W - 1) {
    s.x_low = s.x_high = W - 1;
    x = static_cast<float>(s.x_low);
  } else {
    s.x_high = s.x_low + 1;
  }
  const float ly = y - static_cast<float>(s.y_low), lx = x - static_cast<float>(s.x_low);
  const float hy = 1.0f - ly, hx = 1.0f - lx;
  s.w1 = hy * hx;
  s.w2 = hy * lx;
  s.w3 = ly * hx;
  s.w4 = ly * lx;
  s.inside = true;
  return s;
}

// Visits the samples of bin (ph, pw) in torchvision's order (iy outer, ix inner).
template <class Visit>
WISE_HD inline void roi_align_bin(const RoiAlignGeometry& g, int64_t ph, int64_t pw, int64_t H,
                                  int64_t W, const Visit& visit) {
  for (int64_t iy = 0; iy < g.grid_h; ++iy) {
    const float y = g.start_h + static_cast<float>(ph) * g.bin_h +
                    (static_cast<float>(iy) + 0.5f) * g.bin_h / static_cast<float>(g.grid_h);
    for (int64_t ix = 0; ix < g.grid_w; ++ix) {
      const float x = g.start_w + static_cast<float>(pw) * g.bin_w +
                      (static_cast<float>(ix) + 0.5f) * g.bin_w / static_cast<float>(g.grid_w);
      const BilinearSample s = roi_align_bilinear_sample(y, x, H, W);
      if (s.inside) visit(s);
    }
  }
}

// FPN Eq. 1 with torchvision's LevelMapper (canonical scale 224, level 4, eps 1e-6):
// the level index in [0, count), or -1 when k is NaN (the RoI is on no level).
WISE_HD inline int roi_align_level_of(const float* roi, int k_min, int count) {
  const float area = (roi[3] - roi[1]) * (roi[4] - roi[2]);
  const float k = floorf(4.0f + log2f(sqrtf(area) / 224.0f) + 1e-6f);
  if (!(k == k)) return -1;  // NaN: no level (torch's clamp keeps NaN; no level matches it)
  const float clamped =
      clamp_to(k, static_cast<float>(k_min), static_cast<float>(k_min + count - 1));
  return static_cast<int>(clamped) - k_min;
}

// The level a RoI reads from, and its batch index; level -1 when it reads nothing
// (no level, or a batch index outside [0, N), NaN included). A fractional index in
// range truncates, as torchvision's int conversion does.
struct RoiAlignTarget {
  int level;
  int64_t batch;
};

template <class Pointer>
WISE_HD inline RoiAlignTarget roi_align_target(const float* roi,
                                               const RoiAlignLevels<Pointer>& levels, int64_t N) {
  const float batch = roi[0];
  if (!(batch >= 0.0f && batch < static_cast<float>(N))) return {-1, 0};
  const int level = levels.map_levels ? roi_align_level_of(roi, levels.k_min, levels.count) : 0;
  return {level, static_cast<int64_t>(batch)};
}

// ---- One sample: its read and its scatter, the one expression each. ----------------

// The bilinear value w1 v1 + w2 v2 + w3 v3 + w4 v4 of a sample's four tap values, in
// torchvision's order. Every read of a sample goes through it (the element below and
// the CPU's cached taps), so both give the same bits.
WISE_HD inline float roi_align_interpolate(float w1, float w2, float w3, float w4, float v1, float v2,
                                           float v3, float v4) {
  return w1 * v1 + w2 * v2 + w3 * v3 + w4 * v4;
}

// Sample s of a plane (H x W, row-major).
WISE_HD inline float roi_align_read_sample(const BilinearSample& s, const float* plane, int64_t W) {
  return roi_align_interpolate(s.w1, s.w2, s.w3, s.w4, plane[s.y_low * W + s.x_low],
                               plane[s.y_low * W + s.x_high], plane[s.y_high * W + s.x_low],
                               plane[s.y_high * W + s.x_high]);
}

// Sample s's share of d_bin into a plane: d_bin w / count per tap, in torchvision's
// order. `add(pointer, value)` is += on the CPU (each element owns its planes) and
// atomicAdd on CUDA.
template <class Add>
WISE_HD inline void roi_align_scatter_sample(const BilinearSample& s, int64_t W, float count, float d_bin,
                                             float* d_plane, const Add& add) {
  add(d_plane + s.y_low * W + s.x_low, d_bin * s.w1 / count);
  add(d_plane + s.y_low * W + s.x_high, d_bin * s.w2 / count);
  add(d_plane + s.y_high * W + s.x_low, d_bin * s.w3 / count);
  add(d_plane + s.y_high * W + s.x_high, d_bin * s.w4 / count);
}

// ---- The elements: one output, and one d_output's scatter. -------------------------

// Forward element: output index = ((k C + c) PH + ph) PW + pw is the mean of bin
// (ph, pw)'s samples of channel c, summed in roi_align_bin's order; 0 for a RoI that
// reads nothing.
WISE_HD inline float roi_align_forward_element(int64_t index, const RoiAlignLevels<const float*>& levels,
                                               int64_t N, int64_t C, const float* rois,
                                               const RoiAlignParameters& p) {
  const int64_t PH = p.pooled_height, PW = p.pooled_width;
  const int64_t pw = index % PW, ph = (index / PW) % PH, c = (index / (PW * PH)) % C;
  const float* roi = rois + 5 * (index / (PW * PH * C));
  const RoiAlignTarget target = roi_align_target(roi, levels, N);
  if (target.level < 0) return 0.0f;
  const RoiAlignLevel<const float*>& level = levels.level[target.level];
  const int64_t H = level.height, W = level.width;
  const float* plane = level.data + (target.batch * C + c) * H * W;
  const RoiAlignGeometry g = roi_align_bin_geometry(roi, level.spatial_scale, p);
  float sum = 0.0f;
  roi_align_bin(g, ph, pw, H, W, [&](const BilinearSample& s) { sum += roi_align_read_sample(s, plane, W); });
  return sum / g.count;
}

// Adds d_bin's share of every sample of bin (ph, pw) into the plane, in torchvision's
// order (the backward of one output).
template <class Add>
WISE_HD inline void roi_align_scatter_bin(const RoiAlignGeometry& g, int64_t ph, int64_t pw, int64_t H,
                                          int64_t W, float d_bin, float* d_plane, const Add& add) {
  roi_align_bin(g, ph, pw, H, W, [&](const BilinearSample& s) {
    roi_align_scatter_sample(s, W, g.count, d_bin, d_plane, add);
  });
}

// Backward element: d_output index (as in the forward) scattered into its RoI's plane
// (batch(roi), c) of its level.
template <class Add>
WISE_HD inline void roi_align_backward_element(int64_t index, const RoiAlignLevels<float*>& d_levels,
                                               int64_t N, int64_t C, const float* rois,
                                               const RoiAlignParameters& p, const float* d_output,
                                               const Add& add) {
  const int64_t PH = p.pooled_height, PW = p.pooled_width;
  const int64_t pw = index % PW, ph = (index / PW) % PH, c = (index / (PW * PH)) % C;
  const float* roi = rois + 5 * (index / (PW * PH * C));
  const RoiAlignTarget target = roi_align_target(roi, d_levels, N);
  if (target.level < 0) return;
  const RoiAlignLevel<float*>& level = d_levels.level[target.level];
  const int64_t H = level.height, W = level.width;
  float* d_plane = level.data + (target.batch * C + c) * H * W;
  const RoiAlignGeometry g = roi_align_bin_geometry(roi, level.spatial_scale, p);
  roi_align_scatter_bin(g, ph, pw, H, W, d_output[index], d_plane, add);
}

// ---- A RoI's samples, collected once for many channels (the CPU's grain). ----------

// Records a bin's samples (a functor, not a lambda: roi_align_bin is WISE_HD code).
struct RoiAlignSampleCollector {
  BilinearSample* samples;
  int64_t* count;
  WISE_HD void operator()(const BilinearSample& s) const { samples[(*count)++] = s; }
};

// Every bin's samples of one RoI, bin b = ph PW + pw after bin b - 1: bin b's are
// samples[bin_end[b - 1] .. bin_end[b]) (from 0 for b = 0), in roi_align_bin's order.
// samples holds PH PW grid_h grid_w entries, bin_end PH PW. Returns the total.
WISE_HD inline int64_t roi_align_collect_samples(const RoiAlignGeometry& g, int64_t PH, int64_t PW, int64_t H,
                                                 int64_t W, BilinearSample* samples, int64_t* bin_end) {
  int64_t count = 0;
  for (int64_t b = 0; b < PH * PW; ++b) {
    roi_align_bin(g, b / PW, b % PW, H, W, RoiAlignSampleCollector{samples, &count});
    bin_end[b] = count;
  }
  return count;
}

// output (K, C, ph, pw) from the levels' inputs (N, C, H_l, W_l), rois (K, 5).
void roi_align_forward(Device device, const RoiAlignLevels<const float*>& levels, int64_t N,
                       int64_t C, const float* rois, int64_t K, const RoiAlignParameters& p,
                       float* output);

// Each level's d_input (N, C, H_l, W_l) += the scatter of d_output (K, C, ph, pw).
void roi_align_backward(Device device, const RoiAlignLevels<float*>& d_levels, int64_t N, int64_t C,
                        const float* rois, int64_t K, const RoiAlignParameters& p,
                        const float* d_output);

}  // namespace wise::kernels
