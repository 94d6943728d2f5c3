// Naive double-precision references for the losses (kernels/losses.h), written
// from the textbook definitions and independently of the kernels: log sigma(x) as
// -log1p(exp(-x)) (exact in double for |x| < 700, no max trick), log-softmax as
// x_t - log(sum exp(x)) after a shift by the row's first element, smooth L1 from its
// piecewise definition. Each returns the loss and the gradient of the first input
// for an upstream gradient d_loss, added to `prior` (the accumulation rule).
#pragma once

#include <cstdint>
#include <vector>

namespace wise::reference {

struct LossResult {
  double loss = 0.0;
  std::vector<double> d_input;  // prior + d_loss * d loss / d input
};

// logits (N, C) row-major, targets (N). mean: over the rows whose target is not
// ignore_index (NaN if none).
LossResult softmax_cross_entropy(const std::vector<float>& logits, const std::vector<int64_t>& targets,
                                 int64_t N, int64_t C, int64_t ignore_index, bool mean,
                                 double d_loss, const std::vector<float>& prior);

// weight empty = all ones. mean: over all elements.
LossResult binary_cross_entropy_with_logits(const std::vector<float>& logits,
                                            const std::vector<float>& targets,
                                            const std::vector<float>& weight, bool mean,
                                            double d_loss, const std::vector<float>& prior);

LossResult smooth_l1(const std::vector<float>& input, const std::vector<float>& target, double beta,
                     bool mean, double d_loss, const std::vector<float>& prior);

// input, target (N, C); weight (C) or empty. mean: over the N rows.
LossResult multilabel_soft_margin(const std::vector<float>& input, const std::vector<float>& target,
                                  const std::vector<float>& weight, int64_t N, int64_t C, bool mean,
                                  double d_loss, const std::vector<float>& prior);

}  // namespace wise::reference
