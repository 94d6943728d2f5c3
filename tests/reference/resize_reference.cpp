#include "tests/reference/resize_reference.h"

#include <algorithm>
#include <cmath>

namespace wise::reference {

std::vector<double> upsample_nearest2x(const std::vector<float>& input, int64_t N, int64_t C,
                                       int64_t H, int64_t W) {
  std::vector<double> output;
  for (int64_t plane = 0; plane < N * C; ++plane) {
    for (int64_t oh = 0; oh < 2 * H; ++oh) {
      for (int64_t ow = 0; ow < 2 * W; ++ow) {
        output.push_back(input[static_cast<size_t>((plane * H + oh / 2) * W + ow / 2)]);
      }
    }
  }
  return output;
}

std::vector<double> upsample_nearest2x_backward(const std::vector<float>& d_output, int64_t N,
                                                int64_t C, int64_t H, int64_t W,
                                                const std::vector<float>& prior) {
  std::vector<double> d_input(prior.begin(), prior.end());
  size_t at = 0;
  for (int64_t plane = 0; plane < N * C; ++plane) {
    for (int64_t oh = 0; oh < 2 * H; ++oh) {
      for (int64_t ow = 0; ow < 2 * W; ++ow) {
        d_input[static_cast<size_t>((plane * H + oh / 2) * W + ow / 2)] += d_output[at++];
      }
    }
  }
  return d_input;
}

std::vector<double> bilinear_matrix(int64_t in, int64_t out, bool align_corners) {
  std::vector<double> matrix(static_cast<size_t>(out * in), 0.0);
  for (int64_t dst = 0; dst < out; ++dst) {
    double src;
    if (align_corners) {
      src = out > 1 ? dst * double(in - 1) / double(out - 1) : 0.0;
    } else {
      src = std::max((dst + 0.5) * double(in) / double(out) - 0.5, 0.0);  // half-pixel centres
    }
    const int64_t i0 = std::min(static_cast<int64_t>(std::floor(src)), in - 1);
    const int64_t i1 = std::min(i0 + 1, in - 1);
    const double lambda1 = src - double(i0);
    matrix[static_cast<size_t>(dst * in + i0)] += 1.0 - lambda1;
    matrix[static_cast<size_t>(dst * in + i1)] += lambda1;
  }
  return matrix;
}

std::vector<double> resize_bilinear(const std::vector<float>& input, int64_t N, int64_t C,
                                    int64_t H, int64_t W, int64_t Ho, int64_t Wo,
                                    bool align_corners) {
  const std::vector<double> a_h = bilinear_matrix(H, Ho, align_corners);
  const std::vector<double> a_w = bilinear_matrix(W, Wo, align_corners);
  std::vector<double> output(static_cast<size_t>(N * C * Ho * Wo), 0.0);
  for (int64_t plane = 0; plane < N * C; ++plane) {
    for (int64_t oh = 0; oh < Ho; ++oh) {
      for (int64_t ow = 0; ow < Wo; ++ow) {
        double sum = 0.0;
        for (int64_t h = 0; h < H; ++h) {
          for (int64_t w = 0; w < W; ++w) {
            sum += a_h[static_cast<size_t>(oh * H + h)] * a_w[static_cast<size_t>(ow * W + w)] *
                   input[static_cast<size_t>((plane * H + h) * W + w)];
          }
        }
        output[static_cast<size_t>((plane * Ho + oh) * Wo + ow)] = sum;
      }
    }
  }
  return output;
}

std::vector<double> resize_bilinear_backward(const std::vector<float>& d_output, int64_t N,
                                             int64_t C, int64_t H, int64_t W, int64_t Ho,
                                             int64_t Wo, bool align_corners,
                                             const std::vector<float>& prior) {
  const std::vector<double> a_h = bilinear_matrix(H, Ho, align_corners);
  const std::vector<double> a_w = bilinear_matrix(W, Wo, align_corners);
  std::vector<double> d_input(prior.begin(), prior.end());
  for (int64_t plane = 0; plane < N * C; ++plane) {
    for (int64_t h = 0; h < H; ++h) {
      for (int64_t w = 0; w < W; ++w) {
        double sum = 0.0;
        for (int64_t oh = 0; oh < Ho; ++oh) {
          for (int64_t ow = 0; ow < Wo; ++ow) {
            sum += a_h[static_cast<size_t>(oh * H + h)] * a_w[static_cast<size_t>(ow * W + w)] *
                   d_output[static_cast<size_t>((plane * Ho + oh) * Wo + ow)];
          }
        }
        d_input[static_cast<size_t>((plane * H + h) * W + w)] += sum;
      }
    }
  }
  return d_input;
}

}  // namespace wise::reference
