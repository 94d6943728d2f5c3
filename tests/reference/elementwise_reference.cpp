#include "tests/reference/elementwise_reference.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>

namespace wise::reference {

std::vector<double> add(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<double> out(a.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = double(a[i]) + double(b[i]);
  return out;
}

std::vector<double> multiply(const std::vector<float>& a, const std::vector<float>& b) {
  std::vector<double> out(a.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = double(a[i]) * double(b[i]);
  return out;
}

std::vector<double> multiply_accumulate(const std::vector<float>& a, const std::vector<float>& b,
                                        const std::vector<float>& out) {
  std::vector<double> result(a.size());
  for (size_t i = 0; i < a.size(); ++i) result[i] = double(out[i]) + double(a[i]) * double(b[i]);
  return result;
}

std::vector<double> axpy(double alpha, const std::vector<float>& x, const std::vector<float>& y) {
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = double(y[i]) + alpha * double(x[i]);
  return out;
}

std::vector<double> scale(double alpha, const std::vector<float>& y) {
  std::vector<double> out(y.size());
  for (size_t i = 0; i < y.size(); ++i) out[i] = alpha * double(y[i]);
  return out;
}

std::vector<double> relu(const std::vector<float>& x) {
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = std::isnan(x[i]) ? x[i] : std::fmax(x[i], 0.0);
  return out;
}

std::vector<double> sigmoid(const std::vector<float>& x) {
  std::vector<double> out(x.size());
  for (size_t i = 0; i < x.size(); ++i) out[i] = 1.0 / (1.0 + std::exp(-double(x[i])));
  return out;
}

std::vector<double> softmax_rows(const std::vector<float>& x, int64_t C) {
  std::vector<double> out(x.size());
  for (size_t row = 0; row < x.size() / static_cast<size_t>(C); ++row) {
    double sum = 0.0;
    for (int64_t c = 0; c < C; ++c) sum += std::exp(double(x[row * C + c]));
    for (int64_t c = 0; c < C; ++c) out[row * C + c] = std::exp(double(x[row * C + c])) / sum;
  }
  return out;
}

std::vector<double> relu_backward(const std::vector<float>& y, const std::vector<float>& d_y,
                                  const std::vector<float>& d_x) {
  std::vector<double> out(y.size());
  for (size_t i = 0; i < y.size(); ++i) out[i] = double(d_x[i]) + (y[i] > 0 ? double(d_y[i]) : 0.0);
  return out;
}

double sum(const std::vector<float>& x) {
  double total = 0.0;
  for (float value : x) total += value;
  return total;
}

double max(const std::vector<float>& x) {
  double best = -std::numeric_limits<double>::infinity();
  for (float value : x) {
    if (std::isnan(value)) return value;
    if (value > best) best = value;
  }
  return best;
}

std::vector<double> to_layout(const std::vector<float>& plain, int64_t N, int64_t C, int64_t H,
                              int64_t W, const char* layout) {
  const std::string name = layout;
  auto at = [&](int64_t n, int64_t c, int64_t h, int64_t w) -> double {
    return plain[static_cast<size_t>(((n * C + c) * H + h) * W + w)];
  };
  std::vector<double> out;
  if (name == "nchw") {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c = 0; c < C; ++c)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w) out.push_back(at(n, c, h, w));
  } else if (name == "nhwc") {
    for (int64_t n = 0; n < N; ++n)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t w = 0; w < W; ++w)
          for (int64_t c = 0; c < C; ++c) out.push_back(at(n, c, h, w));
  } else if (name == "nChw8c" || name == "nChw16c") {
    const int64_t block = name == "nChw8c" ? 8 : 16;
    for (int64_t n = 0; n < N; ++n)
      for (int64_t c0 = 0; c0 < C; c0 += block)
        for (int64_t h = 0; h < H; ++h)
          for (int64_t w = 0; w < W; ++w)
            for (int64_t c = c0; c < c0 + block; ++c) out.push_back(c < C ? at(n, c, h, w) : 0.0);
  } else {
    throw std::invalid_argument("unknown layout " + name);
  }
  return out;
}

}  // namespace wise::reference
