// 2-d convolution layer: forward and backward over Tensors.
//
// input (N, C, H, W), weight (K, C, R, S) plain, bias (K) or undefined
//   -> output (N, K, Ho, Wo),  Ho = (H + 2 pad - dil (R - 1) - 1) / stride + 1
//
// The arithmetic is kernels/convolution.h (oneDNN on the CPU, cuDNN on CUDA).
// Memory formats: the output comes in the layout the backend prefers for this
// shape (nChw16c on an AVX-512 CPU, nChw8c with AVX2, NCHW on CUDA), which is
// also the input layout the next convolution of a chain wants, so chains never
// reorder. An input in another layout is reordered first (a cost, visible in
// profiles, that only the first layer of a chain normally pays).
// ReLU and a residual add can be fused into the forward (Conv2dEpilogue); the
// backward then takes the gradient of the pre-activation output: run
// relu_backward (nn/activation.h) on the ReLU's output first.
#pragma once

#include "kernels/convolution.h"
#include "nn/tensor.h"

namespace wise {

struct Conv2dOptions {
  int64_t stride = 1;
  int64_t padding = 0;
  int64_t dilation = 1;
};

// output = [relu]( conv(input, weight) + bias [+ output as it was] )
struct Conv2dEpilogue {
  bool relu = false;
  bool add_to_output = false;  // residual: `output` must already hold it
};

kernels::ConvolutionShape conv2d_shape(const Tensor& input, const Tensor& weight, const Conv2dOptions& options);

// The layouts the device's backend wants for this convolution's input and output.
kernels::ConvolutionFormats conv2d_formats(const Tensor& input, const Tensor& weight,
                                           const Conv2dOptions& options);

void conv2d_forward(const Tensor& input, const Tensor& weight, const Tensor& bias,
                    const Conv2dOptions& options, Tensor& output, Conv2dEpilogue epilogue = {});

// Accumulates d_input += dL/d_input, d_weight += dL/d_weight, d_bias += dL/d_bias
// for d_output = dL/d(pre-activation output). Pass nullptr for gradients not
// wanted (a frozen weight, the network's input). d_input must have the input's
// shape; in any format (it is reordered into if it differs from the backend's).
void conv2d_backward(const Tensor& input, const Tensor& weight, const Tensor& d_output,
                     const Conv2dOptions& options, Tensor* d_input, Tensor* d_weight, Tensor* d_bias);

}  // namespace wise
