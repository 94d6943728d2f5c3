// SGD with momentum, dampening, Nesterov and weight decay, and the gradient
// clipping coefficient: the arithmetic of torch.optim.SGD (torch 1.13, the
// default single-tensor path) and torch.nn.utils.clip_grad_norm_.
//
// sgd_update runs over one contiguous range of parameters that share their
// settings (nn/sgd.h groups a model's parameters into such ranges). Per element:
//
//   g   = gradient * gradient_scale                  (scale: clipping, else 1)
//   d_p = g + weight_decay * p                        (skipped when weight_decay == 0)
//   buf = d_p                                         (first step: torch's buf is None)
//   buf = momentum * buf + (1 - dampening) * d_p      (later steps)
//   d_p = d_p + momentum * buf   if nesterov,  else  d_p = buf   (when momentum != 0)
//   p   = p - lr * d_p
//
// Rounding follows torch exactly: torch's CPU `a.add(b, alpha=s)` is a fused
// multiply-add (Vectorized::fmadd), so every `x + s * y` above is one fmaf, and
// `buf.mul_(momentum)` is a separate float multiply. With fmaf written out, the
// CPU (g++) and the GPU (nvcc) compute the same bits, and they equal torch's
// (tests/fixtures/sgd_parity_test.cpp compares exactly).
//
// Elementwise (each element writes only its own p and buf): a gather,
// deterministic, no atomics. NaN or Inf in the gradient propagate into the
// parameters, as in torch; guarding against them is the trainer's job.
#pragma once

#include <cstdint>

#include "kernels/device.h"

namespace wise::kernels {

// One range's settings for one step, as the floats torch would use: torch casts
// each Python double (lr, momentum, 1 - dampening, weight_decay) to float once.
struct SgdStep {
  float learning_rate = 0.0f;         // schedule x multipliers, for this range
  float momentum = 0.0f;              // 0: no momentum (momentum_buffer may be null)
  float one_minus_dampening = 1.0f;   // computed in double, then rounded, as torch's alpha
  float weight_decay = 0.0f;
  bool nesterov = false;
  bool first_step = false;            // buf = d_p instead of the momentum update
};

// Updates value[0..n) (and momentum_buffer[0..n) when step.momentum != 0) from
// gradient[0..n). gradient_scale points at one float in device memory that
// multiplies every gradient (the clipping coefficient), or is null for none.
// The gradients are only read.
void sgd_update(Device device, float* value, const float* gradient, float* momentum_buffer,
                const float* gradient_scale, int64_t n, const SgdStep& step);

// clip_grad_norm_'s coefficient from a sum of squares (norms.h), on the device:
//   total_norm[0]  = float(sqrt(sum_of_squares[0]))
//   coefficient[0] = min((1 / (total_norm + 1e-6f)) * max_norm, 1)
// in float, as torch computes `max_norm / (total_norm + 1e-6)` (a Python scalar
// divided by a tensor is reciprocal-then-multiply) and clamp(max=1.0). A NaN
// norm gives a NaN coefficient (torch.clamp keeps NaN); an Inf norm gives 0.
void clip_grad_norm_coefficient(Device device, const double* sum_of_squares, float max_norm,
                                float* total_norm, float* coefficient);

}  // namespace wise::kernels
