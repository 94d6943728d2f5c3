// Fully connected layer: y = x W^T + b (torch.nn.functional.linear).
//
// input (N, in_features), weight (out_features, in_features), bias
// (out_features) or undefined -> output (N, out_features). Plain layout; the
// GEMMs are kernels/gemm.h (oneDNN on the CPU, cuBLAS on CUDA).
#pragma once

#include "nn/tensor.h"

namespace wise {

void linear_forward(const Tensor& input, const Tensor& weight, const Tensor& bias, Tensor& output);

// Accumulates d_input += d_output W, d_weight += d_output^T x, d_bias += column
// sums of d_output. nullptr for gradients not wanted.
void linear_backward(const Tensor& input, const Tensor& weight, const Tensor& d_output, Tensor* d_input,
                     Tensor* d_weight, Tensor* d_bias);

}  // namespace wise
