#include "tests/reference/pooling_reference.h"

#include <cmath>
#include <limits>

namespace wise::reference {

MaxPool2dResult max_pool2d(const std::vector<float>& input, int64_t N, int64_t C, int64_t H,
                           int64_t W, int64_t kernel_size, int64_t stride, int64_t padding) {
  MaxPool2dResult result;
  result.output_height = (H + 2 * padding - kernel_size) / stride + 1;
  result.output_width = (W + 2 * padding - kernel_size) / stride + 1;
  const int64_t Ho = result.output_height, Wo = result.output_width;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t c = 0; c < C; ++c) {
      const float* plane = input.data() + (n * C + c) * H * W;
      for (int64_t oh = 0; oh < Ho; ++oh) {
        for (int64_t ow = 0; ow < Wo; ++ow) {
          double best = -std::numeric_limits<double>::infinity();
          int64_t best_index = -1;
          for (int64_t kh = 0; kh < kernel_size; ++kh) {
            for (int64_t kw = 0; kw < kernel_size; ++kw) {
              const int64_t h = oh * stride - padding + kh, w = ow * stride - padding + kw;
              if (h < 0 || h >= H || w < 0 || w >= W) continue;  // padding: -inf
              const double value = plane[h * W + w];
              // The first in-bounds element is the fallback (a window of only -inf);
              // value > NaN is false, so once NaN, only a later NaN replaces it.
              if (best_index < 0 || std::isnan(value) || value > best) {
                best = value;
                best_index = h * W + w;
              }
            }
          }
          result.output.push_back(best);
          result.argmax.push_back(best_index);
        }
      }
    }
  }
  return result;
}

std::vector<double> max_pool2d_backward(const std::vector<float>& d_output,
                                        const std::vector<int64_t>& argmax, int64_t N, int64_t C,
                                        int64_t H, int64_t W, const std::vector<float>& prior) {
  std::vector<double> d_input(prior.begin(), prior.end());
  const int64_t outputs_per_plane = static_cast<int64_t>(d_output.size()) / (N * C);
  for (int64_t plane = 0; plane < N * C; ++plane) {
    for (int64_t o = 0; o < outputs_per_plane; ++o) {
      const size_t at = static_cast<size_t>(plane * outputs_per_plane + o);
      d_input[static_cast<size_t>(plane * H * W + argmax[at])] += d_output[at];
    }
  }
  return d_input;
}

std::vector<double> global_average_pool(const std::vector<float>& input, int64_t N, int64_t C,
                                        int64_t H, int64_t W) {
  std::vector<double> output(static_cast<size_t>(N * C), 0.0);
  for (int64_t plane = 0; plane < N * C; ++plane) {
    for (int64_t i = 0; i < H * W; ++i) {
      output[plane] += input[static_cast<size_t>(plane * H * W + i)];
    }
    output[plane] /= static_cast<double>(H * W);
  }
  return output;
}

std::vector<double> global_average_pool_backward(const std::vector<float>& d_output, int64_t N,
                                                 int64_t C, int64_t H, int64_t W,
                                                 const std::vector<float>& prior) {
  std::vector<double> d_input(prior.begin(), prior.end());
  for (int64_t plane = 0; plane < N * C; ++plane) {
    for (int64_t i = 0; i < H * W; ++i) {
      d_input[static_cast<size_t>(plane * H * W + i)] +=
          static_cast<double>(d_output[plane]) / static_cast<double>(H * W);
    }
  }
  return d_input;
}

}  // namespace wise::reference
