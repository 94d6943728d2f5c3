// Resizing kernels: nearest-neighbour upsampling by 2 and bilinear resizing,
// torch.nn.functional.interpolate semantics.
//
// upsample_nearest2x (F.interpolate(x, scale_factor=2, mode="nearest"), FPN's top-down
// path): output (N, C, 2H, 2W), output[oh, ow] = input[oh / 2, ow / 2] (torch's
// nearest_idx is exactly `dst >> 1` for a factor of 2). Forward and backward are
// gathers; backward adds the four children of each input pixel in torch's scatter
// order, ((d[2h, 2w] + d[2h, 2w+1]) + d[2h+1, 2w]) + d[2h+1, 2w+1], so it is exact
// against torch's CPU result. Deterministic.
//
// resize_bilinear (F.interpolate(x, size=(Ho, Wo), mode="bilinear", align_corners=...)):
// along each axis an output index `dst` maps to a source coordinate
//   align_corners=False: src = max((dst + 1/2) * in / out - 1/2, 0)     (half-pixel centres)
//   align_corners=True:  src = dst * (in - 1) / (out - 1)   (0 when out == 1)
// with taps index0 = floor(src), index1 = min(index0 + 1, in - 1) and weights
// lambda1 = src - index0, lambda0 = 1 - lambda1 (torch's area_pixel_compute_source_index
// and compute_source_index_and_lambda, in float as torch computes them). Then
//   output = lambda0_h (lambda0_w v00 + lambda1_w v01) + lambda1_h (lambda0_w v10 + lambda1_w v11),
// height outer, width inner, as torch's CPU kernel nests them.
// Forward is a gather over the output. Backward is a GATHER over the input,
// deterministic, no atomics. Its derivation, per axis: input index i is a tap of dst
// iff index0(dst) is i - 1 or i (index1 = index0 + 1 = i, or index0 = i; index1 only
// differs from index0 + 1 at the last index, where index0 = i already), i.e. iff
//   i - 1 <= src(dst) < i + 1.
// src is non-decreasing in dst, so those dst form one interval, found by inverting the map:
//   align_corners=False: (i - 1/2) out / in - 1/2 <= dst < (i + 3/2) out / in - 1/2,
//     except that the clamp src >= 0 gives every dst src >= i - 1 when i <= 1 (their
//     weight for i = 1 is 0 there, but a NaN in d_output must still reach it, as in torch)
//   align_corners=True:  (i - 1) (out - 1) / (in - 1) <= dst < (i + 1) (out - 1) / (in - 1)
//   (in == 1 or out == 1 under align_corners: src is always 0, every dst taps index 0).
// The kernel's float src differs from the real-valued one by a rounding, which can move
// floor(src) only for a dst right at a bound, so the interval is widened by one output
// on each side and clamped to [0, out); every dst in it is then tested with the
// forward's own taps, and d_input[i, j] adds weight_h * weight_w * d_output[dst_h, dst_w]
// for exactly the (dst_h, dst_w) whose taps include (i, j), scanned row-major.
// (weight = lambda0 where index0 = i, plus lambda1 where index1 = i.)
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

// The two taps of one output index along one axis, and their weights.
struct BilinearTaps {
  int64_t index0, index1;
  float lambda0, lambda1;
};

// The map's slope along one axis: in / out, or (in - 1) / (out - 1) under
// align_corners (0 when out == 1), in float as torch computes it.
WISE_HD inline float bilinear_scale(int64_t in, int64_t out, bool align_corners) {
  if (align_corners) {
    return out > 1 ? static_cast<float>(in - 1) / static_cast<float>(out - 1) : 0.0f;
  }
  return static_cast<float>(in) / static_cast<float>(out);
}

WISE_HD inline BilinearTaps bilinear_taps(int64_t dst, float scale, int64_t in,
                                          bool align_corners) {
  float src = align_corners ? scale * static_cast<float>(dst)
                            : scale * (static_cast<float>(dst) + 0.5f) - 0.5f;
  src = max_of(src, 0.0f);
  // min(): a rounding up of the align_corners slope must not step past the last index.
  const int64_t index0 = min_of(static_cast<int64_t>(src), in - 1);
  const float lambda1 = src - static_cast<float>(index0);
  return {index0, index0 < in - 1 ? index0 + 1 : index0, 1.0f - lambda1, lambda1};
}

// The output indices [begin, end) whose taps may include input index i (see above:
// the exact interval widened by one each side, clamped to [0, out)).
struct IndexRange {
  int64_t begin, end;
};

WISE_HD inline IndexRange bilinear_backward_range(int64_t i, int64_t in, int64_t out,
                                                  bool align_corners) {
  int64_t begin = 0, end = out;
  // Integer division truncates towards zero, which is within one of floor/ceil either
  // way; the extra widening by one absorbs that as well.
  if (!align_corners) {
    // (i - 1/2) out / in - 1/2 = ((2i - 1) out - in) / (2 in), likewise for i + 3/2.
    // For i <= 1 every dst has src >= 0 >= i - 1 (the clamp at 0): begin stays 0.
    if (i > 1) begin = ((2 * i - 1) * out - in) / (2 * in) - 1;
    end = ((2 * i + 3) * out - in) / (2 * in) + 2;
  } else if (in > 1 && out > 1) {
    begin = (i - 1) * (out - 1) / (in - 1) - 1;
    end = (i + 1) * (out - 1) / (in - 1) + 2;
  }
  return {max_of<int64_t>(begin, 0), min_of(end, out)};
}

// output (N, C, 2H, 2W) = nearest upsampling of input (N, C, H, W).
void upsample_nearest2x_forward(Device device, const float* input, MemoryFormat input_format,
                                float* output, MemoryFormat output_format, int64_t N, int64_t C,
                                int64_t H, int64_t W);

// d_input (N, C, H, W) += sum of each pixel's four children in d_output (N, C, 2H, 2W).
void upsample_nearest2x_backward(Device device, const float* d_output, MemoryFormat d_output_format,
                                 float* d_input, MemoryFormat d_input_format, int64_t N, int64_t C,
                                 int64_t H, int64_t W);

// output (N, C, Ho, Wo) = bilinear resize of input (N, C, H, W); all sizes > 0.
void resize_bilinear_forward(Device device, const float* input, MemoryFormat input_format,
                             float* output, MemoryFormat output_format, int64_t N, int64_t C,
                             int64_t H, int64_t W, int64_t output_height, int64_t output_width,
                             bool align_corners);

// d_input (N, C, H, W) += the bilinear resize's transpose applied to d_output (N, C, Ho, Wo).
void resize_bilinear_backward(Device device, const float* d_output, MemoryFormat d_output_format,
                              float* d_input, MemoryFormat d_input_format, int64_t N, int64_t C,
                              int64_t H, int64_t W, int64_t output_height, int64_t output_width,
                              bool align_corners);

}  // namespace wise::kernels
