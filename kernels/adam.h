// Adam and AdamW: the arithmetic of torch.optim.Adam and torch.optim.AdamW
// (torch 1.13, the default single-tensor path), after Kingma & Ba, "Adam: A Method
// for Stochastic Optimization" (Algorithm 1), and Loshchilov & Hutter, "Decoupled
// Weight Decay Regularization" (AdamW, Algorithm 2).
//
// adam_update runs over one contiguous range of parameters that share their
// settings (nn/adam.h groups a model's parameters into such ranges). Per element,
// at step t (1 for the first update):
//
//   g  = gradient * gradient_scale                 (scale: clipping, else 1)
//   g  = g + weight_decay * p                      (Adam: L2 decay; skipped when 0)
//   p  = p * (1 - lr * weight_decay)               (AdamW: decoupled decay instead)
//   m  = beta1 * m + (1 - beta1) * g                                   (Eq. m_t)
//   v  = beta2 * v + (1 - beta2) * g * g                               (Eq. v_t)
//   v_max = max(v_max, v)                          (amsgrad; then v_max replaces v below)
//   p  = p - step_size * m / (sqrt(v) / bias_correction2_sqrt + eps)
//
// with step_size = lr / (1 - beta1^t) and bias_correction2_sqrt = sqrt(1 - beta2^t),
// computed on the host in double and rounded to float once, as torch does.
//
// Rounding follows torch's CPU kernels op by op, so both devices give torch's bits:
//   grad.add(param, alpha=wd) and exp_avg.add_(g, alpha=1-beta1): one fused
//     multiply-add each (Vectorized::fmadd), written as fmaf;
//   exp_avg.mul_(beta1), exp_avg_sq.mul_(beta2), param.mul_(1 - lr wd): rounded
//     products of their own (product_rounded: neither g++ -march nor nvcc may fuse
//     them into the next add);
//   exp_avg_sq.addcmul_(g, g, value=1-beta2) = self + (value * g) * g, which torch's
//     compiler contracts into fma(value * g, g, self);
//   sqrt, / bias_correction2_sqrt, + eps: three roundings;
//   param.addcdiv_(m, denom, value=-step_size) = p + (-step_size * m) / denom.
// tests/fixtures/adam_parity_test.cpp holds these to torch's trajectories exactly.
//
// Elementwise (each element writes only its own p, m, v, v_max): a gather,
// deterministic, no atomics. NaN or Inf in the gradient propagate into the
// parameters, as in torch; guarding against them is the trainer's job.
#pragma once

#include <cstdint>

#include "kernels/device.h"

namespace wise::kernels {

// One range's settings for one step, as the floats torch would use.
struct AdamStep {
  float beta1 = 0.9f, one_minus_beta1 = 0.1f;       // 1 - beta1 in double, then rounded
  float beta2 = 0.999f, one_minus_beta2 = 0.001f;   // likewise
  float eps = 1e-8f;
  float negative_step_size = 0.0f;      // -(lr / (1 - beta1^t))
  float bias_correction2_sqrt = 1.0f;   // sqrt(1 - beta2^t)
  float weight_decay = 0.0f;            // Adam's L2 term (0 for AdamW)
  float decoupled_decay_factor = 1.0f;  // AdamW's 1 - lr * weight_decay (1 for Adam)
  bool amsgrad = false;
};

// Updates value[0..n), exp_avg[0..n), exp_avg_sq[0..n) (and max_exp_avg_sq[0..n)
// when step.amsgrad) from gradient[0..n). gradient_scale points at one float in
// device memory that multiplies every gradient (the clipping coefficient), or is
// null for none. The gradients are only read.
void adam_update(Device device, float* value, const float* gradient, float* exp_avg, float* exp_avg_sq,
                 float* max_exp_avg_sq, const float* gradient_scale, int64_t n, const AdamStep& step);

}  // namespace wise::kernels
