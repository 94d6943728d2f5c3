// Batch normalization kernels (see batch_norm.h). One source for CPU and CUDA.
#include "kernels/batch_norm.h"

#include <cmath>

#include "kernels/chunk_sums.h"
#include "kernels/launch.h"

namespace wise::kernels {

namespace {

// s = gamma / sqrt(variance + eps) in double: the fold and the frozen scale.
WISE_HD inline double frozen_scale(const float* gamma, const float* variance, float eps, int64_t c) {
  const double g = gamma != nullptr ? static_cast<double>(gamma[c]) : 1.0;
  return g / sqrt(static_cast<double>(variance[c]) + static_cast<double>(eps));
}

// partial[c * chunks + k] = sum over chunk k of channel c of term(c, offset), the
// channel's elements j = n H W + h W + w taken in order (chunk_sums.h). A chunk walks
// each image's part as a strided run (pixel_stride), not an index decode per element.
template <class Term>
void channel_chunk_sums(Device device, MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W,
                        Term term, double* partial) {
  const int64_t HW = H * W;
  const int64_t stride = pixel_stride(format, C);
  row_chunk_sums(
      device, C, N * HW, kBatchNormChunk,
      [=] WISE_HD(int64_t c, int64_t begin, int64_t end) {
        double accumulator = 0.0;
        for (int64_t j = begin; j < end;) {
          const int64_t n = j / HW, run_end = min_of(end, (n + 1) * HW);
          const int64_t base = physical_offset(format, C, H, W, n, c, 0, 0);
          for (int64_t pixel = j - n * HW; j < run_end; ++j, ++pixel) accumulator += term(c, base + pixel * stride);
        }
        return accumulator;
      },
      partial);
}

// The elementwise passes' work item: pixels [begin, end) of plane (n, c), one chunk of
// kPlaneChunk of its H W pixels, walked as a strided run (contiguous in NCHW). Index
// order: (n, c, chunk), over `channels` channels (C, or the padded count).
constexpr int64_t kPlaneChunk = 1024;

struct PlaneChunk {
  int64_t n, c, begin, end;
};

WISE_HD inline PlaneChunk plane_chunk(int64_t index, int64_t channels, int64_t HW) {
  const int64_t chunks_per_plane = ceil_div(HW, kPlaneChunk);
  const int64_t plane = index / chunks_per_plane;
  const int64_t begin = (index % chunks_per_plane) * kPlaneChunk;
  return {plane / channels, plane % channels, begin, min_of(begin + kPlaneChunk, HW)};
}

}  // namespace

// Layout: [partial sums A: C x chunks][partial sums B: C x chunks][per channel: 2 x C].
int64_t batch_norm_workspace_size(int64_t N, int64_t C, int64_t H, int64_t W) {
  const int64_t chunks = ceil_div(N * H * W, kBatchNormChunk);
  return max_of<int64_t>(2 * C * chunks + 2 * C, 1);
}

void batch_norm_statistics(Device device, MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W,
                           const float* input, float eps, float momentum, float* running_mean,
                           float* running_var, float* save_mean, float* save_invstd, double* workspace) {
  const int64_t M = N * H * W;
  const int64_t chunks = ceil_div(M, kBatchNormChunk);
  double* partial = workspace;
  double* mean = workspace + 2 * C * chunks;  // per channel, in double for pass 2
  // Two passes (mean, then squared deviations from it) rather than one pass of
  // sum and sum of squares: no cancellation when |mean| >> std.
  channel_chunk_sums(
      device, format, N, C, H, W,
      [=] WISE_HD(int64_t, int64_t offset) { return static_cast<double>(input[offset]); }, partial);
  parallel_for(device, C, [=] WISE_HD(int64_t c) {
    mean[c] = row_chunk_total(partial, chunks, c) / static_cast<double>(M);
  });
  channel_chunk_sums(
      device, format, N, C, H, W,
      [=] WISE_HD(int64_t c, int64_t offset) {
        const double deviation = static_cast<double>(input[offset]) - mean[c];
        return deviation * deviation;
      },
      partial);
  parallel_for(device, C, [=] WISE_HD(int64_t c) {
    const double squares = row_chunk_total(partial, chunks, c);
    const double variance = squares / static_cast<double>(M);  // biased: normalizes
    save_mean[c] = static_cast<float>(mean[c]);
    save_invstd[c] = static_cast<float>(1.0 / sqrt(variance + static_cast<double>(eps)));
    if (running_mean != nullptr) {
      const double keep = 1.0 - static_cast<double>(momentum);
      running_mean[c] = static_cast<float>(keep * running_mean[c] + momentum * mean[c]);
      // Unbiased (Bessel-corrected), as torch: running_var estimates the population variance.
      const double unbiased = squares / static_cast<double>(M - 1);
      running_var[c] = static_cast<float>(keep * running_var[c] + momentum * unbiased);
    }
  });
}

void batch_norm_inverse_std(Device device, const float* variance, float eps, int64_t C, float* invstd) {
  parallel_for(device, C, [=] WISE_HD(int64_t c) {
    invstd[c] = static_cast<float>(1.0 / sqrt(static_cast<double>(variance[c]) + eps));
  });
}

void batch_norm_transform(Device device, MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W,
                          const float* input, const float* mean, const float* invstd, const float* weight,
                          const float* bias, float* output) {
  // One element per (n, channel, chunk of the H W pixels), a strided run as in
  // batch_norm_backward; padding channels of a blocked format get zeros (oneDNN reads them).
  const int64_t padded_C = padded_channels(format, C);
  const int64_t HW = H * W;
  const int64_t stride = pixel_stride(format, C);
  parallel_for(
      device, N * padded_C * ceil_div(HW, kPlaneChunk),
      [=] WISE_HD(int64_t index) {
        const auto [n, c, begin, end] = plane_chunk(index, padded_C, HW);
        float* out = output + physical_offset(format, C, H, W, n, c, 0, 0);
        if (c >= C) {
          for (int64_t p = begin; p < end; ++p) out[p * stride] = 0.0f;
          return;
        }
        const float* in = input + physical_offset(format, C, H, W, n, c, 0, 0);
        const float m = mean != nullptr ? mean[c] : 0.0f;
        for (int64_t p = begin; p < end; ++p) {
          const float centred = mean != nullptr ? in[p * stride] - m : in[p * stride];
          const float scaled = weight != nullptr ? centred * invstd[c] * weight[c] : centred * invstd[c];
          out[p * stride] = bias != nullptr ? scaled + bias[c] : scaled;
        }
      },
      kPlaneChunk);
}

void batch_norm_backward(Device device, MemoryFormat format, int64_t N, int64_t C, int64_t H, int64_t W,
                         bool training, const float* d_output, const float* input, const float* mean,
                         const float* invstd, const float* weight, float* d_input, float* d_weight,
                         float* d_bias, double* workspace) {
  const int64_t M = N * H * W;
  const int64_t chunks = ceil_div(M, kBatchNormChunk);
  const bool need_sums = d_weight != nullptr || d_bias != nullptr || (training && d_input != nullptr);
  // Per channel: grad_mean = mean(d_y) and projection = mean(d_y x_hat) * invstd,
  // so that d_x = weight invstd (d_y - grad_mean - (x - mu) projection).
  double* grad_mean = need_sums ? workspace + 2 * C * chunks : nullptr;
  double* projection = need_sums ? grad_mean + C : nullptr;
  if (need_sums) {
    double* sum_d_y = workspace;
    double* sum_d_y_centred = workspace + C * chunks;
    channel_chunk_sums(
        device, format, N, C, H, W,
        [=] WISE_HD(int64_t, int64_t offset) { return static_cast<double>(d_output[offset]); }, sum_d_y);
    channel_chunk_sums(
        device, format, N, C, H, W,
        [=] WISE_HD(int64_t c, int64_t offset) {
          return static_cast<double>(d_output[offset]) * (static_cast<double>(input[offset]) - mean[c]);
        },
        sum_d_y_centred);
    parallel_for(device, C, [=] WISE_HD(int64_t c) {
      const double total_d_y = row_chunk_total(sum_d_y, chunks, c);
      const double total_d_y_x_hat = row_chunk_total(sum_d_y_centred, chunks, c) * invstd[c];
      if (d_weight != nullptr) d_weight[c] += static_cast<float>(total_d_y_x_hat);
      if (d_bias != nullptr) d_bias[c] += static_cast<float>(total_d_y);
      grad_mean[c] = total_d_y / static_cast<double>(M);
      projection[c] = total_d_y_x_hat * invstd[c] / static_cast<double>(M);
    });
  }
  if (d_input == nullptr) return;
  // One element per (n, c, chunk of the H W pixels): the channel's constants are read
  // once and the pixels are a strided run (contiguous in NCHW).
  const int64_t HW = H * W;
  const int64_t stride = pixel_stride(format, C);
  parallel_for(
      device, N * C * ceil_div(HW, kPlaneChunk),
      [=] WISE_HD(int64_t index) {
        const auto [n, c, begin, end] = plane_chunk(index, C, HW);
        const int64_t base = physical_offset(format, C, H, W, n, c, 0, 0);
        const float gain = weight != nullptr ? invstd[c] * weight[c] : invstd[c];
        const float g_mean = training ? static_cast<float>(grad_mean[c]) : 0.0f;
        const float g_projection = training ? static_cast<float>(projection[c]) : 0.0f;
        for (int64_t p = begin; p < end; ++p) {
          const int64_t offset = base + p * stride;
          float d_y = d_output[offset];
          if (training) d_y = d_y - g_mean - (input[offset] - mean[c]) * g_projection;
          d_input[offset] += d_y * gain;
        }
      },
      kPlaneChunk);
}

void batch_norm_fold(Device device, int64_t O, int64_t per_output, const float* conv_weight,
                     const float* conv_bias, const float* gamma, const float* beta, const float* mean,
                     const float* variance, float eps, float* folded_weight, float* folded_bias) {
  // One element per (output channel, chunk of its weights): s_o (a double sqrt and
  // division) is computed once per chunk from the same operands, so it is the same
  // double everywhere, and the weights stream through at memory speed.
  constexpr int64_t kChunk = 256;
  const int64_t chunks = ceil_div(per_output, kChunk);
  parallel_for(
      device, O * chunks,
      [=] WISE_HD(int64_t index) {
        const int64_t o = index / chunks, begin = (index % chunks) * kChunk;
        const int64_t end = min_of(begin + kChunk, per_output);
        const double s = frozen_scale(gamma, variance, eps, o);
        for (int64_t i = o * per_output + begin; i < o * per_output + end; ++i)
          folded_weight[i] = static_cast<float>(static_cast<double>(conv_weight[i]) * s);
      },
      kChunk);
  parallel_for(device, O, [=] WISE_HD(int64_t o) {
    const double b = conv_bias != nullptr ? static_cast<double>(conv_bias[o]) : 0.0;
    const double shift = beta != nullptr ? static_cast<double>(beta[o]) : 0.0;
    folded_bias[o] = static_cast<float>((b - mean[o]) * frozen_scale(gamma, variance, eps, o) + shift);
  });
}

void batch_norm_scale_shift(Device device, int64_t C, const float* gamma, const float* beta,
                            const float* mean, const float* variance, float eps, float* scale, float* shift) {
  parallel_for(device, C, [=] WISE_HD(int64_t c) {
    const double s = frozen_scale(gamma, variance, eps, c);
    const double b = beta != nullptr ? static_cast<double>(beta[c]) : 0.0;
    scale[c] = static_cast<float>(s);
    shift[c] = static_cast<float>(b - static_cast<double>(mean[c]) * s);
  });
}

}  // namespace wise::kernels
