#include "tests/reference/peak_response_reference.h"

#include <algorithm>
#include <cmath>

namespace wise::reference {

std::vector<double> peak_response_shift(const std::vector<float>& x, int64_t N, int64_t M) {
  std::vector<double> out(x.size());
  for (int64_t n = 0; n < N; ++n) {
    const double minimum = *std::min_element(x.begin() + n * M, x.begin() + (n + 1) * M);
    for (int64_t i = 0; i < M; ++i) out[n * M + i] = static_cast<double>(x[n * M + i]) - minimum;
  }
  return out;
}

std::vector<double> peak_response_normalize(const std::vector<float>& g, const std::vector<float>& z, double eps) {
  std::vector<double> out(g.size());
  for (size_t i = 0; i < g.size(); ++i) {
    out[i] = z[i] < eps ? 0.0 : static_cast<double>(g[i]) / (std::abs(static_cast<double>(z[i])) + eps);
  }
  return out;
}

std::vector<double> conv2d_peak_response_backward(const ConvGeometry& geometry, const std::vector<float>& x,
                                                  const std::vector<float>& weight,
                                                  const std::vector<float>& d_output, double eps,
                                                  const std::vector<float>& prior) {
  const int64_t M = geometry.C * geometry.H * geometry.W;
  const std::vector<double> shifted = peak_response_shift(x, geometry.N, M);
  // The conv reference takes floats; x~ is exact in float when x's range is within 2x of
  // its minimum's scale, else one rounding: pass the double through float only for z.
  std::vector<float> shifted_float(shifted.begin(), shifted.end());
  std::vector<float> positive(weight.size());
  for (size_t i = 0; i < weight.size(); ++i) positive[i] = weight[i] > 0.0f ? weight[i] : 0.0f;
  const std::vector<double> z = conv2d(geometry, shifted_float, positive, nullptr);
  std::vector<float> r(z.size());
  for (size_t i = 0; i < z.size(); ++i) {
    r[i] = static_cast<float>(z[i] < eps ? 0.0 : static_cast<double>(d_output[i]) / (std::abs(z[i]) + eps));
  }
  const std::vector<double> back = conv2d_grad_input(geometry, r, positive);
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = static_cast<double>(prior[i]) + shifted[i] * back[i];
  return out;
}

std::vector<double> peak_response_map(const std::vector<float>& d, int64_t C, int64_t H, int64_t W,
                                      int64_t sample, int mode) {
  std::vector<double> map(H * W, 0.0);
  for (int64_t p = 0; p < H * W; ++p) {
    double total = 0.0;
    for (int64_t c = 0; c < C; ++c) total += d[(sample * C + c) * H * W + p];
    map[p] = std::max(total, 0.0);
  }
  double denominator = 1.0;
  if (mode == 0) {
    denominator = 0.0;
    for (double value : map) denominator += value;
  } else if (mode == 1) {
    denominator = *std::max_element(map.begin(), map.end());
  }
  for (double& value : map) value = denominator > 0.0 ? value / denominator : 0.0;
  return map;
}

}  // namespace wise::reference
