// 2-d batch normalization (torch.nn.BatchNorm2d) and its frozen forms
// (torchvision.ops.FrozenBatchNorm2d, and a batch norm folded into the
// convolution before it).
//
// input (N, C, H, W) in plain, nhwc, nChw8c or nChw16c (the output has the
// input's format; oneDNN convolutions hand over blocked activations).
// Parameters follow torchvision's state-dict names, each (C) and plain:
// weight (gamma), bias (beta), running_mean, running_var. weight and bias may
// be undefined (affine = False). Formulas: kernels/batch_norm.h.
//
// Training and inference are separate pairs of functions (no `training` flag):
//   training: batch statistics, running statistics updated in place, mean and
//             invstd saved (C each) for the backward;
//   eval:     running statistics; its backward treats them as constants. This is
//             also how a frozen batch norm is trained through.
// Gradients ACCUMULATE (+=) into tensors that already exist with the right
// shape (and, for d_input, the input's format); pass nullptr for a gradient
// that is not wanted.
#pragma once

#include "nn/tensor.h"

namespace wise {

struct BatchNorm2dOptions {
  double eps = 1e-5;
  // running = (1 - momentum) running + momentum batch. torch's momentum=None
  // (cumulative average) is momentum = 1 / num_batches_tracked, passed per step.
  double momentum = 0.1;
};

// output = weight (input - mean_batch) / sqrt(var_batch + eps) + bias; updates
// running_mean and running_var (C, both or neither defined) in place, running_var
// with the unbiased variance. save_mean, save_invstd: (C). Needs more than one
// value per channel (N H W > 1), as torch. An empty batch (N = 0) gives an empty
// output and leaves the running statistics untouched (as torch).
void batch_norm_2d_training_forward(const Tensor& input, const Tensor& weight, const Tensor& bias,
                                    Tensor& running_mean, Tensor& running_var,
                                    const BatchNorm2dOptions& options, Tensor& output, Tensor& save_mean,
                                    Tensor& save_invstd);

// d_input += weight invstd (d_y - mean(d_y) - x_hat mean(d_y x_hat)),
// d_weight += sum d_y x_hat, d_bias += sum d_y, x_hat = (x - save_mean) save_invstd.
void batch_norm_2d_training_backward(const Tensor& d_output, const Tensor& input, const Tensor& weight,
                                     const Tensor& save_mean, const Tensor& save_invstd, Tensor* d_input,
                                     Tensor* d_weight, Tensor* d_bias);

// output = weight (input - running_mean) / sqrt(running_var + eps) + bias.
void batch_norm_2d_eval_forward(const Tensor& input, const Tensor& weight, const Tensor& bias,
                                const Tensor& running_mean, const Tensor& running_var,
                                const BatchNorm2dOptions& options, Tensor& output);

// d_input += d_y weight / sqrt(running_var + eps)  (a per-channel scale),
// d_weight += sum d_y x_hat, d_bias += sum d_y, x_hat from the running statistics.
void batch_norm_2d_eval_backward(const Tensor& d_output, const Tensor& input, const Tensor& weight,
                                 const Tensor& running_mean, const Tensor& running_var,
                                 const BatchNorm2dOptions& options, Tensor* d_input, Tensor* d_weight,
                                 Tensor* d_bias);

// A frozen batch norm folded into the convolution before it, so that
// conv(x, folded_weight) + folded_bias == batch_norm_eval(conv(x, conv_weight) + conv_bias):
//   folded_weight[o] = conv_weight[o] * s_o,  folded_bias[o] = (conv_bias[o] - mean_o) s_o + bias_o,
//   s_o = weight_o / sqrt(running_var_o + eps).
// conv_weight (O, I, kh, kw) plain; conv_bias (O) or undefined (0). Outputs plain
// (O, I, kh, kw) and (O). As torch.nn.utils.fusion.fuse_conv_bn_weights.
void fold_batch_norm(const Tensor& conv_weight, const Tensor& conv_bias, const Tensor& weight,
                     const Tensor& bias, const Tensor& running_mean, const Tensor& running_var, double eps,
                     Tensor& folded_weight, Tensor& folded_bias);

// torchvision.ops.FrozenBatchNorm2d: scale = weight / sqrt(running_var + eps),
// shift = bias - running_mean * scale, (C) each; then y = x scale + shift.
void frozen_batch_norm_scale_shift(const Tensor& weight, const Tensor& bias, const Tensor& running_mean,
                                   const Tensor& running_var, double eps, Tensor& scale, Tensor& shift);

// output = input * scale[c] + shift[c].
void frozen_batch_norm_forward(const Tensor& input, const Tensor& scale, const Tensor& shift, Tensor& output);

// d_input += d_output * scale[c] (the statistics and affine are constants).
void frozen_batch_norm_backward(const Tensor& d_output, const Tensor& scale, Tensor& d_input);

}  // namespace wise
