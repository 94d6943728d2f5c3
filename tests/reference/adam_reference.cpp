#include "tests/reference/adam_reference.h"

#include <algorithm>
#include <cmath>

namespace wise::reference {

AdamReferenceResult adam_step(const std::vector<float>& value, const std::vector<float>& gradient,
                              const std::vector<float>& exp_avg, const std::vector<float>& exp_avg_sq,
                              const std::vector<float>& max_exp_avg_sq, const AdamReferenceStep& step) {
  const double t = static_cast<double>(step.step);
  const double correction1 = 1.0 - std::pow(step.beta1, t);
  const double correction2 = 1.0 - std::pow(step.beta2, t);
  AdamReferenceResult result;
  for (size_t i = 0; i < value.size(); ++i) {
    double p = value[i];
    double g = step.gradient_scale * gradient[i];
    if (step.decoupled) {
      p *= 1.0 - step.learning_rate * step.weight_decay;
    } else {
      g += step.weight_decay * value[i];
    }
    const double m = step.beta1 * exp_avg[i] + (1.0 - step.beta1) * g;
    const double v = step.beta2 * exp_avg_sq[i] + (1.0 - step.beta2) * g * g;
    double v_hat = v;
    if (step.amsgrad) {
      v_hat = std::max<double>(max_exp_avg_sq[i], v);
      result.max_exp_avg_sq.push_back(v_hat);
    }
    // m_hat / (sqrt(v_hat) + eps) with m_hat = m / c1, sqrt(v_hat) = sqrt(v / c2): torch's
    // (and Kingma & Ba's "efficient version") eps placement.
    p -= step.learning_rate * (m / correction1) / (std::sqrt(v_hat / correction2) + step.eps);
    result.value.push_back(p);
    result.exp_avg.push_back(m);
    result.exp_avg_sq.push_back(v);
  }
  return result;
}

}  // namespace wise::reference
