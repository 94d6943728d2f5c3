// Pooling layers: max pooling (ResNet's stem, 3x3 / 2 pad 1; FPN's P6, 1x1 / 2) and
// global average pooling (ResNet's avgpool), PyTorch semantics. The kernels, formulas
// and their gather-style, deterministic backward passes are in kernels/pooling.h.
//
// Memory formats: inputs may be plain, nhwc, nChw8c or nChw16c (oneDNN convolutions
// hand over blocked activations); max_pool2d's output takes the input's format, and
// gradients may each be in any of these formats. The argmax is plain int32.
// Gradients accumulate (d_input += ...); d_input must already exist.
#pragma once

#include "nn/tensor.h"

namespace wise {

// torch.nn.MaxPool2d(kernel_size, stride, padding), dilation 1, ceil_mode=False.
// Positions in the padding count as -inf; padding must be <= kernel_size / 2 (torch's rule).
struct MaxPool2dOptions {
  int kernel_size = 3;
  int stride = 2;
  int padding = 1;
};

// (N, C, H, W) -> (N, C, (H + 2 padding - kernel_size) / stride + 1, likewise W).
Shape max_pool2d_output_shape(const Shape& input, const MaxPool2dOptions& options);

// input (N, C, H, W) -> output (N, C, Ho, Wo) in input's format, argmax (N, C, Ho, Wo)
// int32 plain: the flat index h * W + w of each selected element within its input
// plane (torch's `indices`; ties pick the first in row-major window order, NaN wins).
void max_pool2d_forward(const Tensor& input, const MaxPool2dOptions& options, Tensor& output,
                        Tensor& argmax);

// d_input (N, C, H, W) += d_output (N, C, Ho, Wo) routed back through argmax.
void max_pool2d_backward(const Tensor& d_output, const Tensor& argmax,
                         const MaxPool2dOptions& options, Tensor& d_input);

// adaptive_avg_pool2d(input, 1): input (N, C, H, W), H W > 0 -> output (N, C, 1, 1),
// always plain (its consumer, a linear layer, reads it as (N, C); a 1 x 1 map gains
// nothing from blocking). Summed in double per plane, rounded once.
void global_average_pool_forward(const Tensor& input, Tensor& output);

// d_input (N, C, H, W) += d_output (N, C, 1, 1, plain) / (H W), broadcast over each plane.
void global_average_pool_backward(const Tensor& d_output, Tensor& d_input);

}  // namespace wise
