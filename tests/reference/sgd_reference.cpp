#include "tests/reference/sgd_reference.h"

#include <cmath>

namespace wise::reference {

SgdReferenceResult sgd_step(const std::vector<float>& value, const std::vector<float>& gradient,
                            const std::vector<float>& momentum_buffer, const SgdReferenceStep& step) {
  SgdReferenceResult result;
  const bool has_momentum = step.momentum != 0.0;
  for (size_t i = 0; i < value.size(); ++i) {
    const double p = value[i];
    double d_p = step.gradient_scale * gradient[i] + step.weight_decay * p;
    if (has_momentum) {
      const double buffer = step.first_step ? d_p
                                            : step.momentum * momentum_buffer[i] +
                                                  (1.0 - step.dampening) * d_p;
      result.momentum_buffer.push_back(buffer);
      d_p = step.nesterov ? d_p + step.momentum * buffer : buffer;
    }
    result.value.push_back(p - step.learning_rate * d_p);
  }
  return result;
}

double sum_of_squares(const std::vector<float>& x) {
  double total = 0.0;
  for (float value : x) total += double(value) * double(value);
  return total;
}

ClipReference clip_grad_norm(double sum_of_squares, double max_norm) {
  const double total_norm = std::sqrt(sum_of_squares);
  const double coefficient = max_norm / (total_norm + 1e-6);
  return {total_norm, std::isnan(coefficient) ? coefficient : std::fmin(coefficient, 1.0)};
}

}  // namespace wise::reference
