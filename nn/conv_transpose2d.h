// 2-d transposed convolution ("deconvolution"), as Mask R-CNN's mask head uses
// it (2x2, stride 2: 14x14 RoI features -> 28x28 masks).
//
// input (N, C_in, H, W), weight (C_in, C_out, R, S) — torch's ConvTranspose2d
// layout — and bias (C_out) or undefined -> output (N, C_out, Ho, Wo),
//   Ho = (H - 1) stride - 2 padding + dilation (R - 1) + output_padding + 1.
//
// A transposed convolution is the backward-data pass of the "mirror"
// convolution that maps (N, C_out, Ho, Wo) to (N, C_in, H, W) with the same
// weight read as (K = C_in, C = C_out, R, S). So all three passes reuse
// kernels/convolution.h (oneDNN / cuDNN) with roles swapped:
//   forward         = mirror backward-data(d_output := input)
//   backward data   = mirror forward(input := d_output)
//   backward weight = mirror backward-weights(input := d_output, d_output := input)
// and the formats are the mirror's: output in its input layout, input in its
// output layout.
#pragma once

#include "kernels/convolution.h"
#include "nn/tensor.h"

namespace wise {

struct ConvTranspose2dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t output_padding = 0;
  int64_t dilation = 1;
};

// The convolution whose backward-data pass this transposed convolution is.
kernels::ConvolutionShape conv_transpose2d_mirror(const Tensor& input, const Tensor& weight,
                                                  const ConvTranspose2dOptions& options);

void conv_transpose2d_forward(const Tensor& input, const Tensor& weight, const Tensor& bias,
                              const ConvTranspose2dOptions& options, Tensor& output);

// Accumulates into the gradients given (nullptr: not wanted).
void conv_transpose2d_backward(const Tensor& input, const Tensor& weight, const Tensor& d_output,
                               const ConvTranspose2dOptions& options, Tensor* d_input, Tensor* d_weight,
                               Tensor* d_bias);

}  // namespace wise
