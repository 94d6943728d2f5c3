// Loss kernels (see losses.h). One source for CPU and CUDA; every backward is a gather.
#include "kernels/losses.h"

#include <cmath>

#include "kernels/launch.h"
#include "kernels/reduce.h"

namespace wise::kernels {

namespace {

// loss[0] = the sum or the mean of the n terms, through the chunked reduction.
void reduce_terms(Device device, const float* terms, int64_t n, Reduction reduction,
                  double* workspace, float* loss) {
  if (reduction == Reduction::mean) {
    mean(device, terms, n, workspace, loss);
  } else {
    sum(device, terms, n, workspace, loss);
  }
}

// The factor every gradient term is multiplied by: d_loss[0], divided by the number
// of terms a mean averages (1 for a sum). Read on the device, so no host sync.
WISE_HD inline float gradient_scale(const float* d_loss, Reduction reduction, int64_t count) {
  return reduction == Reduction::mean ? d_loss[0] / static_cast<float>(count) : d_loss[0];
}

// Writes valid[n] = 1 for rows that count (target != ignore_index), 0 for ignored ones.
void cross_entropy_valid_rows(Device device, const int64_t* targets, int64_t N,
                              int64_t ignore_index, float* valid) {
  parallel_for(device, N, [=] WISE_HD(int64_t n) {
    valid[n] = targets[n] == ignore_index ? 0.0f : 1.0f;
  });
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Softmax cross entropy. Scratch layout: [0, N) row losses, [N, 2N) valid flags,
// [2N] the number of valid rows.
// ---------------------------------------------------------------------------------------

void softmax_cross_entropy_forward(Device device, const float* logits, const int64_t* targets,
                                   int64_t N, int64_t C, int64_t ignore_index, Reduction reduction,
                                   float* scratch, double* workspace, float* loss) {
  float* row_loss = scratch;
  float* valid = scratch + N;
  float* valid_count = scratch + 2 * N;
  parallel_for(device, N, [=] WISE_HD(int64_t n) {
    const int64_t target = targets[n];
    valid[n] = target == ignore_index ? 0.0f : 1.0f;
    if (target == ignore_index) {
      row_loss[n] = 0.0f;
    } else if (target < 0 || target >= C) {
      row_loss[n] = NAN;  // out of range: see losses.h
    } else {
      const float* row = logits + n * C;
      const RowSoftmaxStatistics statistics = row_softmax_statistics(row, C);
      // -log softmax(x)_t = max + log(sum exp(x - max)) - x_t, in double.
      row_loss[n] = static_cast<float>(static_cast<double>(statistics.max) +
                                       log(statistics.sum_exp) - static_cast<double>(row[target]));
    }
  }, C);
  sum(device, row_loss, N, workspace, loss);
  if (reduction == Reduction::mean) {
    // Divide by the number of rows that count; 0 / 0 gives torch's NaN when none does.
    sum(device, valid, N, workspace, valid_count);
    parallel_for(device, 1, [=] WISE_HD(int64_t) { loss[0] = loss[0] / valid_count[0]; });
  }
}

void softmax_cross_entropy_backward(Device device, const float* logits, const int64_t* targets,
                                    int64_t N, int64_t C, int64_t ignore_index,
                                    Reduction reduction, const float* d_loss, float* scratch,
                                    double* workspace, float* d_logits) {
  const float* valid_count = nullptr;  // mean only: the forward's divisor, recounted here
  if (reduction == Reduction::mean) {
    cross_entropy_valid_rows(device, targets, N, ignore_index, scratch + N);
    sum(device, scratch + N, N, workspace, scratch + 2 * N);
    valid_count = scratch + 2 * N;
  }
  // One element per row: it computes the row's softmax once and writes only its row.
  parallel_for(device, N, [=] WISE_HD(int64_t n) {
    const int64_t target = targets[n];
    if (target == ignore_index) return;  // ignored rows get no gradient (not NaN * 0)
    const float scale = valid_count != nullptr ? d_loss[0] / valid_count[0] : d_loss[0];
    const float* row = logits + n * C;
    float* d_row = d_logits + n * C;
    if (target < 0 || target >= C) {
      for (int64_t c = 0; c < C; ++c) d_row[c] += NAN;
      return;
    }
    const RowSoftmaxStatistics statistics = row_softmax_statistics(row, C);
    const float inverse_sum = static_cast<float>(1.0 / statistics.sum_exp);
    for (int64_t c = 0; c < C; ++c) {
      const float probability = expf(row[c] - statistics.max) * inverse_sum;
      d_row[c] += (probability - (c == target ? 1.0f : 0.0f)) * scale;
    }
  }, C);
}

// ---------------------------------------------------------------------------------------
// Binary cross entropy with logits.
// ---------------------------------------------------------------------------------------

void binary_cross_entropy_with_logits_forward(Device device, const float* logits,
                                              const float* targets, const float* weight,
                                              int64_t n, Reduction reduction, float* scratch,
                                              double* workspace, float* loss) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    const float term = binary_logit_loss(logits[i], targets[i]);
    scratch[i] = weight != nullptr ? term * weight[i] : term;
  });
  reduce_terms(device, scratch, n, reduction, workspace, loss);
}

void binary_cross_entropy_with_logits_backward(Device device, const float* logits,
                                               const float* targets, const float* weight,
                                               int64_t n, Reduction reduction,
                                               const float* d_loss, float* d_logits) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    const float scale = gradient_scale(d_loss, reduction, n);
    const float derivative = stable_sigmoid(logits[i]) - targets[i];
    d_logits[i] += (weight != nullptr ? derivative * weight[i] : derivative) * scale;
  });
}

// ---------------------------------------------------------------------------------------
// Smooth L1.
// ---------------------------------------------------------------------------------------

void smooth_l1_forward(Device device, const float* input, const float* target, int64_t n,
                       float beta, Reduction reduction, float* scratch, double* workspace,
                       float* loss) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    scratch[i] = smooth_l1_term(input[i] - target[i], beta);
  });
  reduce_terms(device, scratch, n, reduction, workspace, loss);
}

void smooth_l1_backward(Device device, const float* input, const float* target, int64_t n,
                        float beta, Reduction reduction, const float* d_loss, float* d_input) {
  parallel_for(device, n, [=] WISE_HD(int64_t i) {
    const float scale = gradient_scale(d_loss, reduction, n);
    d_input[i] += smooth_l1_derivative(input[i] - target[i], beta) * scale;
  });
}

// ---------------------------------------------------------------------------------------
// Multilabel soft margin.
// ---------------------------------------------------------------------------------------

void multilabel_soft_margin_forward(Device device, const float* input, const float* target,
                                    const float* weight, int64_t N, int64_t C,
                                    Reduction reduction, float* scratch, double* workspace,
                                    float* loss) {
  // Row n's loss, (1/C) sum_c w_c l(x, t), summed over its classes in double and in order.
  parallel_for(device, N, [=] WISE_HD(int64_t n) {
    double row_sum = 0.0;
    for (int64_t c = 0; c < C; ++c) {
      const int64_t i = n * C + c;
      const float term = binary_logit_loss(input[i], target[i]);
      row_sum += static_cast<double>(weight != nullptr ? term * weight[c] : term);
    }
    scratch[n] = static_cast<float>(row_sum / static_cast<double>(C));  // C = 0: NaN, as torch
  }, C);
  reduce_terms(device, scratch, N, reduction, workspace, loss);
}

void multilabel_soft_margin_backward(Device device, const float* input, const float* target,
                                     const float* weight, int64_t N, int64_t C,
                                     Reduction reduction, const float* d_loss, float* d_input) {
  parallel_for(device, N * C, [=] WISE_HD(int64_t i) {
    const float scale = gradient_scale(d_loss, reduction, N) / static_cast<float>(C);
    const float derivative = stable_sigmoid(input[i]) - target[i];
    d_input[i] += (weight != nullptr ? derivative * weight[i % C] : derivative) * scale;
  });
}

}  // namespace wise::kernels
