// Naive double-precision reference for the Adam/AdamW kernel (kernels/adam.h),
// written from Kingma & Ba's Algorithm 1 and Loshchilov & Hutter's AdamW
// (Algorithm 2), independently of the kernel (no shared code): the bias
// corrections are computed here from the step number.
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

struct AdamReferenceStep {
  double learning_rate = 1e-3;
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
  double weight_decay = 0.0;
  bool decoupled = false;  // AdamW
  bool amsgrad = false;
  int64_t step = 1;        // t, 1 for the first update
  double gradient_scale = 1.0;
};

struct AdamReferenceResult {
  std::vector<double> value, exp_avg, exp_avg_sq, max_exp_avg_sq;
};

// One step of every element, in double:
//   g = scale * grad (+ wd * p for Adam); p *= 1 - lr wd for AdamW;
//   m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; v_hat = amsgrad ? max(v_max, v) : v;
//   p -= lr / (1 - b1^t) * m / (sqrt(v_hat / (1 - b2^t)) + eps).
AdamReferenceResult adam_step(const std::vector<float>& value, const std::vector<float>& gradient,
                              const std::vector<float>& exp_avg, const std::vector<float>& exp_avg_sq,
                              const std::vector<float>& max_exp_avg_sq, const AdamReferenceStep& step);

}  // namespace wise::reference
