#include "tests/reference/loss_reference.h"

#include <cmath>
#include <limits>

namespace wise::reference {

namespace {

double log_sigmoid(double x) { return -std::log1p(std::exp(-x)); }
double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

std::vector<double> widen(const std::vector<float>& values) { return {values.begin(), values.end()}; }

}  // namespace

LossResult softmax_cross_entropy(const std::vector<float>& logits, const std::vector<int64_t>& targets,
                                 int64_t N, int64_t C, int64_t ignore_index, bool mean,
                                 double d_loss, const std::vector<float>& prior) {
  LossResult result{0.0, widen(prior)};
  int64_t valid = 0;
  for (int64_t n = 0; n < N; ++n) valid += targets[n] != ignore_index ? 1 : 0;
  const double divisor = mean ? static_cast<double>(valid) : 1.0;
  double total = 0.0;
  for (int64_t n = 0; n < N; ++n) {
    const int64_t t = targets[n];
    if (t == ignore_index) continue;
    const double shift = logits[n * C];  // any shift is exact in double for these inputs
    double sum_exp = 0.0;
    for (int64_t c = 0; c < C; ++c) sum_exp += std::exp(logits[n * C + c] - shift);
    total += shift + std::log(sum_exp) - logits[n * C + t];
    for (int64_t c = 0; c < C; ++c) {
      const double softmax = std::exp(logits[n * C + c] - shift) / sum_exp;
      result.d_input[n * C + c] += d_loss * (softmax - (c == t ? 1.0 : 0.0)) / divisor;
    }
  }
  result.loss = mean ? (valid == 0 ? std::numeric_limits<double>::quiet_NaN() : total / divisor) : total;
  return result;
}

LossResult binary_cross_entropy_with_logits(const std::vector<float>& logits,
                                            const std::vector<float>& targets,
                                            const std::vector<float>& weight, bool mean,
                                            double d_loss, const std::vector<float>& prior) {
  LossResult result{0.0, widen(prior)};
  const size_t n = logits.size();
  const double divisor = mean ? static_cast<double>(n) : 1.0;
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double x = logits[i], t = targets[i], w = weight.empty() ? 1.0 : weight[i];
    total += -w * (t * log_sigmoid(x) + (1.0 - t) * log_sigmoid(-x));
    result.d_input[i] += d_loss * w * (sigmoid(x) - t) / divisor;
  }
  result.loss = total / divisor;  // n = 0 with mean: 0 / 0 = NaN, as torch
  return result;
}

LossResult smooth_l1(const std::vector<float>& input, const std::vector<float>& target, double beta,
                     bool mean, double d_loss, const std::vector<float>& prior) {
  LossResult result{0.0, widen(prior)};
  const size_t n = input.size();
  const double divisor = mean ? static_cast<double>(n) : 1.0;
  double total = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double d = double(input[i]) - double(target[i]);
    double value, derivative;
    if (beta == 0.0) {  // the L1 loss; its gradient at 0 is 0
      value = std::fabs(d);
      derivative = d > 0 ? 1.0 : (d < 0 ? -1.0 : 0.0);
    } else if (std::fabs(d) < beta) {
      value = 0.5 * d * d / beta;
      derivative = d / beta;
    } else {
      value = std::fabs(d) - 0.5 * beta;
      derivative = d > 0 ? 1.0 : -1.0;
    }
    total += value;
    result.d_input[i] += d_loss * derivative / divisor;
  }
  result.loss = total / divisor;
  return result;
}

LossResult multilabel_soft_margin(const std::vector<float>& input, const std::vector<float>& target,
                                  const std::vector<float>& weight, int64_t N, int64_t C, bool mean,
                                  double d_loss, const std::vector<float>& prior) {
  LossResult result{0.0, widen(prior)};
  const double divisor = mean ? static_cast<double>(N) : 1.0;
  double total = 0.0;
  for (int64_t n = 0; n < N; ++n) {
    double row = 0.0;
    for (int64_t c = 0; c < C; ++c) {
      const double x = input[n * C + c], t = target[n * C + c];
      const double w = weight.empty() ? 1.0 : weight[c];
      row += -w * (t * log_sigmoid(x) + (1.0 - t) * log_sigmoid(-x));
      result.d_input[n * C + c] += d_loss * w * (sigmoid(x) - t) / double(C) / divisor;
    }
    total += row / double(C);
  }
  result.loss = total / divisor;
  return result;
}

}  // namespace wise::reference
