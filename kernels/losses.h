// Loss kernels: softmax cross entropy, binary cross entropy with logits, smooth L1
// and multilabel soft margin, forward and backward, with PyTorch's semantics.
//
// Every forward writes its loss to loss[0] in device memory, so a training step
// needs no host synchronisation, and reduces through kernels/reduce.h's
// deterministic chunked sums: per-element (or per-row) losses go to a scratch
// buffer, which kernels::sum / kernels::mean add up in fixed chunks in double.
// The loss is therefore bitwise the same at 1 or N CPU threads.
//
// Every backward is a GATHER: element i (or row n) computes its own gradient and
// ADDS it into d_input (wise's one accumulation rule), scaled by d_loss[0], which
// is read on the device. No atomics, deterministic.
//
// The formulas (x a logit, t a target, sigma the logistic function):
//   softmax cross entropy   l_n = logsumexp(x_n) - x_n,t_n           (rows with t_n =
//                           ignore_index count for nothing; mean divides by the
//                           number of the others, as F.cross_entropy)
//                           d x_n,c = (softmax(x_n)_c - [c = t_n]) * d_loss / count
//   BCE with logits         l = w (max(x, 0) - x t + log1p(exp(-|x|)))
//                             = -w (t log sigma(x) + (1 - t) log sigma(-x))
//                           d x = w (sigma(x) - t) * d_loss / count
//   smooth L1 (Huber/beta)  l = |d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta,  d = x - y
//                           d x = clamp(d / beta, -1, 1). beta = 0 is L1 with gradient
//                           0 at d = 0, as torch >= 2.0 (1.13's kernel gives -1 there)
//   multilabel soft margin  l_n = (1/C) sum_c w_c * (the BCE term of x_n,c, t_n,c)
//                           (PRM's classification loss; torch's
//                           multilabel_soft_margin_loss); mean over rows N.
// Both log-sigmoid and log-softmax are evaluated in their stable forms (no exp of a
// large positive number), so logits of +-80 give finite losses and exact gradients.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/device.h"
#include "kernels/host_device.h"

namespace wise::kernels {

// How a loss combines its per-element terms: their mean or their sum.
enum class Reduction { mean, sum };

// ---------------------------------------------------------------------------------------
// Shared numerics, written once for both targets.
// ---------------------------------------------------------------------------------------

// -(t log sigma(x) + (1 - t) log sigma(-x)) = max(x, 0) - x t + log1p(exp(-|x|)):
// the exponent is never positive, so nothing overflows for any finite x. max(x, 0) - x t
// is formed as (1 - t) x for x >= 0 (as torch): x - x t would cancel for t near 1 and
// large x (80 - 79.99), losing digits that (1 - t) x keeps. A NaN x takes the else branch.
WISE_HD inline float binary_logit_loss(float x, float t) {
  const float linear = x >= 0.0f ? (1.0f - t) * x : -t * x;
  return linear + log1pf(expf(-fabsf(x)));
}

// sigma(x) = 1 / (1 + exp(-x)), with exp of a non-positive number only.
WISE_HD inline float stable_sigmoid(float x) {
  if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
  const float e = expf(x);
  return e / (1.0f + e);
}

// Huber-style smooth L1 of a difference d. beta = 0 is |d| (torch calls l1_loss).
WISE_HD inline float smooth_l1_term(float d, float beta) {
  const float magnitude = fabsf(d);
  if (magnitude < beta) return 0.5f * d * d / beta;
  return magnitude - 0.5f * beta;
}

// Its derivative: d / beta inside the quadratic zone, sign(d) outside; at beta = 0
// sign(d) with sign(0) = 0 (l1_loss's backward). A NaN difference stays NaN.
WISE_HD inline float smooth_l1_derivative(float d, float beta) {
  if (d < -beta) return -1.0f;
  if (d > beta) return 1.0f;
  if (beta > 0.0f) return d / beta;
  return d == 0.0f ? 0.0f : d;  // |d| <= 0 here: d is 0 (or NaN, which passes through)
}

// The max and sum of exp(x - max) of one row of C logits: log-sum-exp = max + log(sum).
// The exponentials are float (torch's precision); their sum is accumulated in double.
struct RowSoftmaxStatistics {
  float max;
  double sum_exp;
};

WISE_HD inline RowSoftmaxStatistics row_softmax_statistics(const float* row, int64_t C) {
  float largest = row[0];
  for (int64_t c = 1; c < C; ++c) largest = row[c] > largest ? row[c] : largest;
  // A NaN logit (or a NaN max) makes sum_exp NaN, hence the row's loss and gradient.
  double sum_exp = 0.0;
  for (int64_t c = 0; c < C; ++c) sum_exp += static_cast<double>(expf(row[c] - largest));
  return {largest, sum_exp};
}

// ---------------------------------------------------------------------------------------
// Softmax cross entropy. logits (N, C), targets int64 (N).
//
// A target outside [0, C) that is not ignore_index cannot be reported from the GPU
// without a host synchronisation; there (and on the CPU, where nn/losses.cpp checks
// first and throws) such a row's loss and gradient row are NaN, so the loss is NaN
// and the training loop's NaN guard stops the run.
// ---------------------------------------------------------------------------------------

// Scratch the forward needs: floats (row losses and valid flags), and doubles for the sums.
inline int64_t softmax_cross_entropy_scratch_floats(int64_t N) { return 2 * N + 1; }

// loss[0] = sum_n l_n (sum) or sum_n l_n / #valid rows (mean; NaN with no valid row).
void softmax_cross_entropy_forward(Device device, const float* logits, const int64_t* targets,
                                   int64_t N, int64_t C, int64_t ignore_index, Reduction reduction,
                                   float* scratch, double* workspace, float* loss);

// d_logits (N, C) += (softmax - one_hot(target)) * d_loss[0] (/ #valid rows for mean);
// ignored rows receive nothing. Same scratch as the forward.
void softmax_cross_entropy_backward(Device device, const float* logits, const int64_t* targets,
                                    int64_t N, int64_t C, int64_t ignore_index,
                                    Reduction reduction, const float* d_loss, float* scratch,
                                    double* workspace, float* d_logits);

// ---------------------------------------------------------------------------------------
// Binary cross entropy with logits. logits, targets, weight: n elements each; weight
// may be nullptr (all ones). Mean divides by n, as torch (weights do not normalise).
// scratch: n floats.
// ---------------------------------------------------------------------------------------

void binary_cross_entropy_with_logits_forward(Device device, const float* logits,
                                              const float* targets, const float* weight,
                                              int64_t n, Reduction reduction, float* scratch,
                                              double* workspace, float* loss);

// d_logits += w (sigma(x) - t) * d_loss[0] (/ n for mean).
void binary_cross_entropy_with_logits_backward(Device device, const float* logits,
                                               const float* targets, const float* weight,
                                               int64_t n, Reduction reduction,
                                               const float* d_loss, float* d_logits);

// ---------------------------------------------------------------------------------------
// Smooth L1. input, target: n elements each; beta >= 0. scratch: n floats.
// ---------------------------------------------------------------------------------------

void smooth_l1_forward(Device device, const float* input, const float* target, int64_t n,
                       float beta, Reduction reduction, float* scratch, double* workspace,
                       float* loss);

// d_input += smooth_l1_derivative(input - target) * d_loss[0] (/ n for mean).
void smooth_l1_backward(Device device, const float* input, const float* target, int64_t n,
                        float beta, Reduction reduction, const float* d_loss, float* d_input);

// ---------------------------------------------------------------------------------------
// Multilabel soft margin. input, target (N, C); weight (C) or nullptr. Mean is over
// the N rows (each row is already a mean over its C classes). scratch: N floats.
// ---------------------------------------------------------------------------------------

void multilabel_soft_margin_forward(Device device, const float* input, const float* target,
                                    const float* weight, int64_t N, int64_t C,
                                    Reduction reduction, float* scratch, double* workspace,
                                    float* loss);

// d_input (N, C) += w_c (sigma(x) - t) / C * d_loss[0] (/ N for mean).
void multilabel_soft_margin_backward(Device device, const float* input, const float* target,
                                     const float* weight, int64_t N, int64_t C,
                                     Reduction reduction, const float* d_loss, float* d_input);

}  // namespace wise::kernels
