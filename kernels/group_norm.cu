// Group normalization kernels (see group_norm.h). One source for CPU and CUDA.
#include "kernels/group_norm.h"

#include <cmath>

#include "kernels/chunk_sums.h"
#include "kernels/launch.h"

namespace wise::kernels {

namespace {

// The sizes every pass needs, and the (n, group) set a channel belongs to.
struct GroupLayout {
  MemoryFormat format;
  int64_t N, C, H, W, groups;
  WISE_HD int64_t per_group() const { return C / groups; }
  WISE_HD int64_t set_size() const { return per_group() * H * W; }  // m
  WISE_HD int64_t set_of(int64_t n, int64_t c) const { return n * groups + c / per_group(); }
  // Where element j (in (c, h, w) order) of set s = n * groups + g lives.
  WISE_HD int64_t set_element_offset(int64_t s, int64_t j) const {
    const int64_t plane = H * W;
    const int64_t n = s / groups, c = (s % groups) * per_group() + j / plane;
    return physical_offset(format, C, H, W, n, c, (j % plane) / W, j % W);
  }
};

// partial[s * chunks + k] = sum over chunk k of set s of term(s, offset) (chunk_sums.h).
template <class Term>
void set_chunk_sums(Device device, const GroupLayout& layout, Term term, double* partial) {
  row_chunk_sums(
      device, layout.N * layout.groups, layout.set_size(), kGroupNormChunk,
      [=] WISE_HD(int64_t s, int64_t begin, int64_t end) {
        double accumulator = 0.0;
        for (int64_t j = begin; j < end; ++j) accumulator += term(s, layout.set_element_offset(s, j));
        return accumulator;
      },
      partial);
}

int64_t forward_chunks(const GroupLayout& layout) { return ceil_div(layout.set_size(), kGroupNormChunk); }
int64_t backward_chunks(const GroupLayout& layout) { return ceil_div(layout.H * layout.W, kGroupNormChunk); }

}  // namespace

// Forward: [partial: sets x chunks][mean in double: sets].
// Backward: [partials: 2 x (N C) x chunks][totals: 2 x N C][coefficients: 2 x sets].
int64_t group_norm_workspace_size(int64_t N, int64_t C, int64_t H, int64_t W, int64_t groups) {
  const GroupLayout layout{MemoryFormat::plain, N, C, H, W, groups};
  const int64_t sets = N * groups, pairs = N * C;
  const int64_t forward = sets * forward_chunks(layout) + sets;
  const int64_t backward = 2 * pairs * backward_chunks(layout) + 2 * pairs + 2 * sets;
  return max_of<int64_t>(max_of(forward, backward), 1);
}

void group_norm_forward(Device device, MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W,
                        int64_t groups, float eps, const float* input, const float* weight, const float* bias,
                        float* output, float* mean, float* rstd, double* workspace) {
  const GroupLayout layout{format, N, C, H, W, groups};
  const int64_t sets = N * groups, chunks = forward_chunks(layout);
  const double m = static_cast<double>(layout.set_size());
  double* partial = workspace;
  double* mean_double = workspace + sets * chunks;
  // Two passes (mean, then squared deviations from it): no cancellation when |mean| >> std.
  set_chunk_sums(
      device, layout, [=] WISE_HD(int64_t, int64_t offset) { return static_cast<double>(input[offset]); },
      partial);
  parallel_for(device, sets,
               [=] WISE_HD(int64_t s) { mean_double[s] = row_chunk_total(partial, chunks, s) / m; });
  set_chunk_sums(
      device, layout,
      [=] WISE_HD(int64_t s, int64_t offset) {
        const double deviation = static_cast<double>(input[offset]) - mean_double[s];
        return deviation * deviation;
      },
      partial);
  parallel_for(device, sets, [=] WISE_HD(int64_t s) {
    const double variance = row_chunk_total(partial, chunks, s) / m;  // biased
    mean[s] = static_cast<float>(mean_double[s]);
    rstd[s] = static_cast<float>(1.0 / sqrt(variance + static_cast<double>(eps)));
  });

  const int64_t padded_C = padded_channels(format, C);
  parallel_for(device, N * padded_C * H * W, [=] WISE_HD(int64_t i) {
    const int64_t n = i / (padded_C * H * W), c = (i / (H * W)) % padded_C;
    const int64_t offset = physical_offset(format, C, H, W, n, c, (i / W) % H, i % W);
    if (c >= C) {  // blocked padding: oneDNN reads it, keep it zero
      output[offset] = 0.0f;
      return;
    }
    const int64_t s = layout.set_of(n, c);
    const float normalized = (input[offset] - mean[s]) * rstd[s];
    const float scaled = weight != nullptr ? normalized * weight[c] : normalized;
    output[offset] = bias != nullptr ? scaled + bias[c] : scaled;
  });
}

void group_norm_backward(Device device, MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W,
                         int64_t groups, const float* d_output, const float* input, const float* mean,
                         const float* rstd, const float* weight, float* d_input, float* d_weight,
                         float* d_bias, double* workspace) {
  const GroupLayout layout{format, N, C, H, W, groups};
  const int64_t plane = H * W, pairs = N * C, sets = N * groups;
  const int64_t chunks = backward_chunks(layout);
  double* partial_d_y = workspace;
  double* partial_centred = partial_d_y + pairs * chunks;
  double* total_d_y = partial_centred + pairs * chunks;  // (n, c): sum over (h, w) of d_y
  double* total_centred = total_d_y + pairs;             // (n, c): sum of d_y (x - mean)
  double* grad_mean = total_centred + pairs;             // (n, g): mean(d_x_hat)
  double* projection = grad_mean + sets;                 // (n, g): mean(d_x_hat x_hat) rstd

  // Per (n, c) sums over its plane, chunked: weight_c and rstd are applied after,
  // so d_weight and d_x share them.
  parallel_for(device, pairs * chunks, [=] WISE_HD(int64_t item) {
    const int64_t pair = item / chunks, chunk = item % chunks;
    const int64_t n = pair / C, c = pair % C, s = layout.set_of(n, c);
    const int64_t end = min_of((chunk + 1) * kGroupNormChunk, plane);
    double sum_d_y = 0.0, sum_centred = 0.0;
    for (int64_t j = chunk * kGroupNormChunk; j < end; ++j) {
      const int64_t offset = physical_offset(format, C, H, W, n, c, j / W, j % W);
      const double d_y = d_output[offset];
      sum_d_y += d_y;
      sum_centred += d_y * (static_cast<double>(input[offset]) - mean[s]);
    }
    partial_d_y[item] = sum_d_y;
    partial_centred[item] = sum_centred;
  }, kGroupNormChunk);
  parallel_for(device, pairs, [=] WISE_HD(int64_t pair) {
    total_d_y[pair] = row_chunk_total(partial_d_y, chunks, pair);
    total_centred[pair] = row_chunk_total(partial_centred, chunks, pair);
  });

  if (d_weight != nullptr || d_bias != nullptr) {
    parallel_for(device, C, [=] WISE_HD(int64_t c) {
      double sum_d_y_x_hat = 0.0, sum_d_y = 0.0;
      for (int64_t n = 0; n < N; ++n) {
        sum_d_y_x_hat += total_centred[n * C + c] * rstd[layout.set_of(n, c)];
        sum_d_y += total_d_y[n * C + c];
      }
      if (d_weight != nullptr) d_weight[c] += static_cast<float>(sum_d_y_x_hat);
      if (d_bias != nullptr) d_bias[c] += static_cast<float>(sum_d_y);
    });
  }
  if (d_input == nullptr) return;

  const double m = static_cast<double>(layout.set_size());
  parallel_for(device, sets, [=] WISE_HD(int64_t s) {
    const int64_t n = s / groups, first = (s % groups) * layout.per_group();
    double sum_d_x_hat = 0.0, sum_d_x_hat_centred = 0.0;
    for (int64_t c = first; c < first + layout.per_group(); ++c) {
      const double gamma = weight != nullptr ? static_cast<double>(weight[c]) : 1.0;
      sum_d_x_hat += gamma * total_d_y[n * C + c];
      sum_d_x_hat_centred += gamma * total_centred[n * C + c];
    }
    const double r = rstd[s];
    grad_mean[s] = sum_d_x_hat / m;
    projection[s] = sum_d_x_hat_centred * r * r / m;
  });
  parallel_for(device, N * C * H * W, [=] WISE_HD(int64_t i) {
    const int64_t n = i / (C * H * W), c = (i / plane) % C;
    const int64_t offset = physical_offset(format, C, H, W, n, c, (i / W) % H, i % W);
    const int64_t s = layout.set_of(n, c);
    const float d_x_hat = weight != nullptr ? d_output[offset] * weight[c] : d_output[offset];
    const float centred = input[offset] - mean[s];
    d_input[offset] +=
        rstd[s] * (d_x_hat - static_cast<float>(grad_mean[s]) - centred * static_cast<float>(projection[s]));
  });
}

}  // namespace wise::kernels
