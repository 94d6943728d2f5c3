// 2-d convolution (cross-correlation, as every framework computes it) and its
// two backward passes, on raw buffers.
//
//   output[n, k, p, q] = act( bias[k] + sum_{c, r, s} input[n, c, p*sh - ph + r*dh, q*sw - pw + s*dw]
//                                                   * weight[k, c, r, s]  (+ output_before[n, k, p, q]) )
//
// Backends, chosen by device: oneDNN on the CPU (direct JIT convolution in its
// preferred blocked layout, about 98 % of FMA peak on ResNet shapes), cuDNN on
// CUDA. Weights are always plain OIHW (K, C, R, S) — they live in a model's one
// parameter buffer — and are reordered into the backend's layout per call, in
// the caller's workspace. Activations may be in any MemoryFormat the backend
// prefers: ask convolution_formats() and hand the input in that format, so a
// chain of convolutions never reorders between layers.
//
// Backward passes take `beta` like BLAS: the gradient is computed as
// beta * existing + new, so beta = 1 accumulates (the layers' rule) and beta = 0
// overwrites. Every function needs a workspace of convolution_workspace_bytes().
// Deterministic on the CPU (oneDNN's f32 direct convolution reduces in a fixed
// order for a given thread count).
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/device.h"
#include "kernels/memory_format.h"

namespace wise::kernels {

struct ConvolutionShape {
  int64_t batch = 1, in_channels = 1, in_height = 1, in_width = 1;
  int64_t out_channels = 1, kernel_height = 1, kernel_width = 1;
  int64_t stride_height = 1, stride_width = 1;
  int64_t padding_height = 0, padding_width = 0;
  int64_t dilation_height = 1, dilation_width = 1;

  int64_t out_height() const {
    return (in_height + 2 * padding_height - dilation_height * (kernel_height - 1) - 1) / stride_height + 1;
  }
  int64_t out_width() const {
    return (in_width + 2 * padding_width - dilation_width * (kernel_width - 1) - 1) / stride_width + 1;
  }
  // Multiply-adds x 2 of one forward pass (each backward pass costs the same).
  double flops() const {
    return 2.0 * batch * out_channels * out_height() * out_width() * in_channels * kernel_height *
           kernel_width;
  }
};

// What runs after the convolution, fused into it: optionally add what the output
// buffer already holds (a residual connection), then optionally ReLU.
struct ConvolutionEpilogue {
  bool add_to_output = false;
  bool relu = false;
};

// The activation layouts the backend wants for this convolution.
struct ConvolutionFormats {
  MemoryFormat input = MemoryFormat::plain;
  MemoryFormat output = MemoryFormat::plain;
};

ConvolutionFormats convolution_formats(Device device, const ConvolutionShape& shape);

// Bytes of scratch any of the three passes of this convolution needs.
std::size_t convolution_workspace_bytes(Device device, const ConvolutionShape& shape);

// output = epilogue(conv(input, weight) + bias). bias may be null. input and
// output must be in convolution_formats(device, shape).
void convolution_forward(Device device, const ConvolutionShape& shape, const float* input,
                         const float* weight, const float* bias, ConvolutionEpilogue epilogue,
                         float* output, void* workspace);

// d_input = beta * d_input + conv_transpose(d_output, weight). d_output in the
// output format, d_input in the input format.
void convolution_backward_data(Device device, const ConvolutionShape& shape, const float* d_output,
                               const float* weight, float beta, float* d_input, void* workspace);

// d_weight = beta * d_weight + (d_output correlated with input), plain OIHW;
// d_bias = beta * d_bias + sum of d_output over (N, H, W) when d_bias != null.
void convolution_backward_weights(Device device, const ConvolutionShape& shape, const float* input,
                                  const float* d_output, float beta, float* d_weight, float* d_bias,
                                  void* workspace);

// The backends behind the functions above.
namespace cpu {
ConvolutionFormats convolution_formats(const ConvolutionShape& shape);
std::size_t convolution_workspace_bytes(const ConvolutionShape& shape);
void convolution_forward(const ConvolutionShape& shape, const float* input, const float* weight,
                         const float* bias, ConvolutionEpilogue epilogue, float* output, void* workspace);
void convolution_backward_data(const ConvolutionShape& shape, const float* d_output, const float* weight,
                               float beta, float* d_input, void* workspace);
void convolution_backward_weights(const ConvolutionShape& shape, const float* input, const float* d_output,
                                  float beta, float* d_weight, float* d_bias, void* workspace);
}  // namespace cpu
namespace cuda {
std::size_t convolution_workspace_bytes(const ConvolutionShape& shape);
void convolution_forward(const ConvolutionShape& shape, const float* input, const float* weight,
                         const float* bias, ConvolutionEpilogue epilogue, float* output, void* workspace);
void convolution_backward_data(const ConvolutionShape& shape, const float* d_output, const float* weight,
                               float beta, float* d_input, void* workspace);
void convolution_backward_weights(const ConvolutionShape& shape, const float* input, const float* d_output,
                                  float beta, float* d_weight, float* d_bias, void* workspace);
}  // namespace cuda

}  // namespace wise::kernels
