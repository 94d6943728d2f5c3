// Naive double-precision references for batch and group normalization, written
// from the papers' definitions (Ioffe & Szegedy 2015, Algorithm 1 and its
// chain rule, section 3; Wu & He 2018, Eq. 1-3), independently of
// kernels/batch_norm.* and kernels/group_norm.*: statistics by direct loops,
// gradients through the paper's intermediate d_var and d_mean rather than the
// kernels' compact closed form. Tensors are NCHW plain; an empty weight or
// bias vector means 1 or 0 (affine = False).
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

struct NormShape {
  int64_t N, C, H, W;
  int64_t numel() const { return N * C * H * W; }
};

struct BatchNormResult {
  std::vector<double> output;
  std::vector<double> mean, invstd;               // (C): batch statistics, biased variance
  std::vector<double> running_mean, running_var;  // (C): updated, running_var unbiased
};

// Training mode: batch statistics, and the running statistics updated with `momentum`.
BatchNormResult batch_norm_training(const std::vector<float>& x, const NormShape& shape,
                                    const std::vector<float>& weight, const std::vector<float>& bias,
                                    const std::vector<float>& running_mean,
                                    const std::vector<float>& running_var, double eps, double momentum);

// Eval mode: y = weight (x - running_mean) / sqrt(running_var + eps) + bias.
std::vector<double> batch_norm_eval(const std::vector<float>& x, const NormShape& shape,
                                    const std::vector<float>& weight, const std::vector<float>& bias,
                                    const std::vector<float>& running_mean,
                                    const std::vector<float>& running_var, double eps);

struct NormGradients {
  std::vector<double> d_input, d_weight, d_bias;  // dL/d(x, weight, bias), not accumulated
};

// Training-mode gradients for upstream d_y (statistics recomputed from x in double).
NormGradients batch_norm_training_backward(const std::vector<float>& d_y, const std::vector<float>& x,
                                           const NormShape& shape, const std::vector<float>& weight,
                                           double eps);

// Eval-mode gradients: the running statistics are constants.
NormGradients batch_norm_eval_backward(const std::vector<float>& d_y, const std::vector<float>& x,
                                       const NormShape& shape, const std::vector<float>& weight,
                                       const std::vector<float>& running_mean,
                                       const std::vector<float>& running_var, double eps);

struct GroupNormResult {
  std::vector<double> output;
  std::vector<double> mean, rstd;  // (N, groups)
};

GroupNormResult group_norm(const std::vector<float>& x, const NormShape& shape, int64_t groups,
                           const std::vector<float>& weight, const std::vector<float>& bias, double eps);

NormGradients group_norm_backward(const std::vector<float>& d_y, const std::vector<float>& x,
                                  const NormShape& shape, int64_t groups, const std::vector<float>& weight,
                                  double eps);

// A direct convolution, stride 1, zero padding k / 2 (k odd): input (N, C, H, W),
// weight (O, C, k, k), bias (O) or empty -> output (N, O, H, W).
std::vector<double> conv2d_same(const std::vector<double>& x, const NormShape& shape,
                                const std::vector<double>& weight, int64_t O, int64_t k,
                                const std::vector<double>& bias);

}  // namespace wise::reference
