// Group normalization (torch.nn.GroupNorm, Wu & He 2018).
//
// input (N, C, H, W) in plain, nhwc, nChw8c or nChw16c (the output has the
// input's format); C must be divisible by num_groups. weight (gamma) and bias
// (beta) are (C) plain, or undefined (affine = False). Formulas:
// kernels/group_norm.h. The statistics are per sample, so training and
// inference are the same function; mean and rstd, (N, num_groups) each, are
// saved for the backward. Gradients ACCUMULATE (+=) into tensors that already
// exist with the right shape (d_input: also the input's format); pass nullptr
// for a gradient that is not wanted.
#pragma once

#include <cstdint>

#include "nn/tensor.h"

namespace wise {

struct GroupNormOptions {
  int64_t num_groups = 32;
  double eps = 1e-5;
};

// output = (input - mean_ng) * rstd_ng * weight_c + bias_c, with mean and rstd
// over each (sample, group): (C / num_groups) H W elements, biased variance.
void group_norm_forward(const Tensor& input, const Tensor& weight, const Tensor& bias,
                        const GroupNormOptions& options, Tensor& output, Tensor& mean, Tensor& rstd);

// d_input += rstd (d_x_hat - mean(d_x_hat) - x_hat mean(d_x_hat x_hat)), d_x_hat = d_y weight,
// d_weight += sum over (n, h, w) of d_y x_hat, d_bias += sum of d_y.
void group_norm_backward(const Tensor& d_output, const Tensor& input, const Tensor& weight,
                         const Tensor& mean, const Tensor& rstd, const GroupNormOptions& options,
                         Tensor* d_input, Tensor* d_weight, Tensor* d_bias);

}  // namespace wise
