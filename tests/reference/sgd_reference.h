// Naive double-precision references for the optimizer kernels (kernels/sgd.h,
// kernels/norms.h), written from torch.optim.SGD's documented update and
// torch.nn.utils.clip_grad_norm_, independently of the kernels (no shared code).
#pragma once

#include <vector>

namespace wise::reference {

struct SgdReferenceStep {
  double learning_rate = 0.0;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
  bool first_step = false;   // the momentum buffer starts as d_p
  double gradient_scale = 1.0;
};

struct SgdReferenceResult {
  std::vector<double> value;
  std::vector<double> momentum_buffer;  // empty when momentum == 0
};

// One SGD step of every element, in double:
//   d_p = scale * g + wd * p; buf = first ? d_p : momentum * buf + (1 - dampening) * d_p;
//   d_p = nesterov ? d_p + momentum * buf : buf (momentum != 0); p - lr * d_p.
SgdReferenceResult sgd_step(const std::vector<float>& value, const std::vector<float>& gradient,
                            const std::vector<float>& momentum_buffer, const SgdReferenceStep& step);

double sum_of_squares(const std::vector<float>& x);

// clip_grad_norm_ from a sum of squares: total_norm = sqrt(s), coefficient =
// min(max_norm / (total_norm + 1e-6), 1) (NaN stays NaN).
struct ClipReference {
  double total_norm;
  double coefficient;
};
ClipReference clip_grad_norm(double sum_of_squares, double max_norm);

}  // namespace wise::reference
