// Pooling kernels: 2-d max pooling and global average pooling, PyTorch semantics.
//
// max_pool2d (torch.nn.functional.max_pool2d, ceil_mode=False, dilation 1):
//   output[n, c, oh, ow] = max over the window rows oh*stride - padding + [0, kernel_size),
//   columns likewise; positions outside the input count as -inf (never selected).
//   Forward is a gather over the output; it also saves the argmax, the flat index
//   h * W + w of the selected element within its (n, c) input plane (torch's `indices`).
//   The selection rule is torch's, element for element: the window is scanned row by
//   row and an element replaces the running maximum when it is strictly greater (so
//   among ties the FIRST in scan order wins) or when it is NaN (so the output is NaN
//   and the argmax is the LAST NaN). A window of only -inf keeps its first in-bounds
//   element.
//   Backward is a GATHER over the input, deterministic, no atomics: d_input[h, w] +=
//   the sum of d_output[oh, ow] over the windows that contain (h, w) and whose argmax
//   is h * W + w, added in (oh, ow) row-major order — the order in which torch's CPU
//   backward scatters them, so the two agree bit for bit.
//   The windows containing row h are oh in [ceil((h + padding - kernel_size + 1) / stride),
//   floor((h + padding) / stride)], clamped to [0, Ho); the same for columns.
//
// global_average_pool (adaptive_avg_pool2d to 1 x 1):
//   output[n, c] = (1 / (H W)) sum_{h, w} input[n, c, h, w], summed in double in
//   row-major order by one thread per (n, c) (deterministic), rounded once to float.
//   Backward: d_input[n, c, h, w] += d_output[n, c] / (H W), a gather (one read each).
//
// Memory formats: every 4-d operand carries its own MemoryFormat (plain, nhwc,
// nChw8c, nChw16c; kernels/memory_format.h) and is addressed through
// physical_offset, so blocked activations from oneDNN convolutions need no reorder.
// Forward outputs in a blocked format get zeros in their padding channels; backward
// passes never touch the padding channels of d_input. The argmax is always plain
// int32 (N, C, Ho, Wo); the global average pool's output is plain (N, C) storage.
#pragma once

#include <cstdint>

#include "kernels/device.h"
#include "kernels/memory_format.h"

namespace wise::kernels {

// The window geometry of a max pool over an (N, C, H, W) input.
struct MaxPool2dGeometry {
  int64_t N = 0, C = 0, H = 0, W = 0;
  int64_t output_height = 0, output_width = 0;
  int64_t kernel_size = 1, stride = 1, padding = 0;
};

// output (N, C, Ho, Wo) in output_format; argmax (N, C, Ho, Wo) plain int32.
void max_pool2d_forward(Device device, const MaxPool2dGeometry& geometry, const float* input,
                        MemoryFormat input_format, float* output, MemoryFormat output_format,
                        int32_t* argmax);

// d_input (N, C, H, W) += gather of d_output (N, C, Ho, Wo) through argmax.
void max_pool2d_backward(Device device, const MaxPool2dGeometry& geometry, const float* d_output,
                         MemoryFormat d_output_format, const int32_t* argmax, float* d_input,
                         MemoryFormat d_input_format);

// output[n * C + c] = mean of input plane (n, c); input (N, C, H, W), H W > 0.
void global_average_pool_forward(Device device, const float* input, MemoryFormat input_format,
                                 float* output, int64_t N, int64_t C, int64_t H, int64_t W);

// d_input (N, C, H, W) += d_output[n * C + c] / (H W).
void global_average_pool_backward(Device device, const float* d_output, float* d_input,
                                  MemoryFormat d_input_format, int64_t N, int64_t C, int64_t H,
                                  int64_t W);

}  // namespace wise::kernels
