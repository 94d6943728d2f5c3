// Batch normalization over a 4-d activation (N, C, H, W), in any memory format.
//
// Ioffe & Szegedy 2015, "Batch Normalization", Algorithm 1, with PyTorch's
// conventions (torch.nn.functional.batch_norm):
//
//   training:  mu_c = mean of x[:, c] over (N, H, W),  var_c = biased variance,
//              invstd_c = 1 / sqrt(var_c + eps),
//              y = (x - mu_c) * invstd_c * weight_c + bias_c,
//              running_mean_c = (1 - momentum) running_mean_c + momentum mu_c,
//              running_var_c  = (1 - momentum) running_var_c + momentum var_c * M / (M - 1)
//              (the UNBIASED variance, M = N H W), as torch does.
//   eval:      the same transform with mu = running_mean, invstd = 1/sqrt(running_var + eps).
//   backward:  x_hat = (x - mu) invstd,
//              d_weight_c += sum d_y x_hat,   d_bias_c += sum d_y,
//              training: d_x += weight invstd (d_y - mean(d_y) - x_hat mean(d_y x_hat)),
//              eval:     d_x += weight invstd d_y  (statistics are constants).
//
// Deterministic: a channel's sums are taken over its M elements cut into fixed
// chunks of kBatchNormChunk, in (n, h, w) order, each chunk summed in double by
// one work item, then the chunk results combined in order by one item per
// channel. No atomics; the result does not depend on the thread count, the
// device, or the memory format. Elementwise passes are gathers: every output
// element reads its channel's statistics. Blocked formats (nChw8c, nChw16c):
// the padding channels of `output` are written as zeros, those of d_input are
// left untouched (+= 0).
//
// weight and bias may be null (affine = False: 1 and 0); so may running_mean /
// running_var in training (track_running_stats = False) and each gradient
// pointer in backward (that gradient is not wanted).
#pragma once

#include <cstdint>

#include "kernels/device.h"
#include "kernels/memory_format.h"

namespace wise::kernels {

// Elements of one channel summed by one work item.
inline constexpr int64_t kBatchNormChunk = 2048;

// Doubles of scratch batch_norm_statistics and batch_norm_backward need.
int64_t batch_norm_workspace_size(int64_t N, int64_t C, int64_t H, int64_t W);

// Training statistics of input (N, C, H, W) in `format`: save_mean (C),
// save_invstd (C), and the running statistics updated in place (if not null).
// Needs N H W > 1 for the unbiased variance (the caller checks).
void batch_norm_statistics(Device device, MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W,
                           const float* input, float eps, float momentum, float* running_mean,
                           float* running_var, float* save_mean, float* save_invstd, double* workspace);

// invstd[c] = 1 / sqrt(variance[c] + eps), for the eval transform.
void batch_norm_inverse_std(Device device, const float* variance, float eps, int64_t C, float* invstd);

// output = (input - mean[c]) * invstd[c] * weight[c] + bias[c]. mean null means
// 0, so (mean = null, invstd = scale, weight = null, bias = shift) is the
// per-channel affine map y = x * scale + shift of a frozen batch norm.
void batch_norm_transform(Device device, MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W,
                          const float* input, const float* mean, const float* invstd, const float* weight,
                          const float* bias, float* output);

// Backward of the transform with the statistics (mean, invstd) it used:
// training = true for batch statistics (d_x also flows through mu and var),
// false for running statistics (d_x = d_y * weight * invstd). Accumulates (+=).
// workspace may be null when d_weight, d_bias are null and training is false.
void batch_norm_backward(Device device, MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W,
                         bool training, const float* d_output, const float* input, const float* mean,
                         const float* invstd, const float* weight, float* d_input, float* d_weight,
                         float* d_bias, double* workspace);

// A frozen batch norm folded into the convolution before it (torch.nn.utils.
// fusion.fuse_conv_bn_weights): with s_o = gamma_o / sqrt(var_o + eps),
//   folded_weight[o, ...] = conv_weight[o, ...] * s_o       (O x per_output elements)
//   folded_bias[o]        = (conv_bias[o] - mean_o) * s_o + beta_o   (conv_bias null: 0)
// Computed in double and rounded once. gamma / beta null mean 1 / 0.
void batch_norm_fold(Device device, int64_t O, int64_t per_output, const float* conv_weight,
                     const float* conv_bias, const float* gamma, const float* beta, const float* mean,
                     const float* variance, float eps, float* folded_weight, float* folded_bias);

// torchvision.ops.FrozenBatchNorm2d's constants: scale = gamma / sqrt(var + eps),
// shift = beta - mean * scale (in double, rounded once). gamma / beta null: 1 / 0.
void batch_norm_scale_shift(Device device, int64_t C, const float* gamma, const float* beta,
                            const float* mean, const float* variance, float eps, float* scale, float* shift);

}  // namespace wise::kernels
