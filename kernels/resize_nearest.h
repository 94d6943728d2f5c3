// Nearest-neighbour resizing to a given size, F.interpolate(x, size=(Ho, Wo), mode="nearest").
//
// FPN's top-down path (torchvision's FeaturePyramidNetwork) upsamples the coarser map to
// the finer map's size, not by a factor: for a ResNet the finer level has H = 2h or
// 2h - 1 (stride-2 convolutions round up), so nearest-by-2 (kernels/resize.h) only
// covers even sizes. Along each axis torch maps an output index `dst` to
//   src = min(floor(dst * scale), in - 1),   scale = in / out computed in float
// (aten's nearest_neighbor_compute_source_index with compute_scales_value; the product
// is rounded to float before the floor, as here). For out = 2 in this is dst >> 1, for
// out = in the identity, and for in = ceil(out / 2) it is again dst >> 1 (dst * in / out
// = dst/2 + dst/(2 out) and dst/(2 out) < 1/2), which is why FPN's odd sizes still
// look like "x2, cropped".
//
// Forward is a gather over the output. Backward is a GATHER over the input,
// deterministic, no atomics: input index i receives every dst with src(dst) = i, an
// interval since src is non-decreasing in dst; in real numbers it is
//   ceil(i out / in) <= dst < ceil((i + 1) out / in)    (every dst >= that for i = in - 1)
// and the float rounding of src can move an end by one, so the interval is widened by
// one output each side, clamped to [0, out), and each dst in it is tested with the
// forward's own map. d_input[i, j] adds d_output over those (dst_h, dst_w) row-major
// from 0, the order of torch's CPU scatter (d_input[src] += d_output[dst] over dst).
//
// Memory formats: each 4-d operand has its own MemoryFormat (kernels/memory_format.h),
// addressed through physical_offset; forward outputs get zeros in blocked padding
// channels, backward passes leave d_input's padding channels untouched.
#pragma once

#include <cstdint>

#include "kernels/device.h"
#include "kernels/host_device.h"
#include "kernels/memory_format.h"

namespace wise::kernels {

// The map's slope along one axis, in / out, in float as torch computes it.
WISE_HD inline float nearest_scale(int64_t in, int64_t out) {
  return static_cast<float>(in) / static_cast<float>(out);
}

// The source index of output index `dst` (dst * scale >= 0, so the cast is the floor).
WISE_HD inline int64_t nearest_source_index(int64_t dst, float scale, int64_t in) {
  return min_of(static_cast<int64_t>(static_cast<float>(dst) * scale), in - 1);
}

// Output indices [begin, end) that may map to input index i (see above: the exact
// interval widened by one each side, clamped to [0, out)).
struct NearestRange {
  int64_t begin, end;
};

WISE_HD inline NearestRange nearest_backward_range(int64_t i, int64_t in, int64_t out) {
  const int64_t begin = ceil_div(i * out, in) - 1;
  const int64_t end = i == in - 1 ? out : ceil_div((i + 1) * out, in) + 1;
  return {max_of<int64_t>(begin, 0), min_of(end, out)};
}

// output (N, C, Ho, Wo) = nearest resize of input (N, C, H, W); all sizes > 0.
void resize_nearest_forward(Device device, const float* input, MemoryFormat input_format,
                            float* output, MemoryFormat output_format, int64_t N, int64_t C,
                            int64_t H, int64_t W, int64_t output_height, int64_t output_width);

// d_input (N, C, H, W) += the nearest resize's transpose applied to d_output (N, C, Ho, Wo).
void resize_nearest_backward(Device device, const float* d_output, MemoryFormat d_output_format,
                             float* d_input, MemoryFormat d_input_format, int64_t N, int64_t C,
                             int64_t H, int64_t W, int64_t output_height, int64_t output_width);

}  // namespace wise::kernels
