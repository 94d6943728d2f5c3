#include "tests/reference/conv_reference.h"

#include <cstddef>

namespace wise::reference {

namespace {

// Calls visit(n, k, p, q, c, r, s, x_index) for every term of the convolution
// sum whose input tap lies inside the (unpadded) input.
template <class Visit>
void for_each_term(const ConvGeometry& g, Visit visit) {
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t k = 0; k < g.K; ++k)
      for (int64_t p = 0; p < g.P(); ++p)
        for (int64_t q = 0; q < g.Q(); ++q)
          for (int64_t c = 0; c < g.C; ++c)
            for (int64_t r = 0; r < g.R; ++r)
              for (int64_t s = 0; s < g.S; ++s) {
                const int64_t h = p * g.stride - g.padding + r * g.dilation;
                const int64_t w = q * g.stride - g.padding + s * g.dilation;
                if (h < 0 || h >= g.H || w < 0 || w >= g.W) continue;
                visit(((n * g.K + k) * g.P() + p) * g.Q() + q, ((n * g.C + c) * g.H + h) * g.W + w,
                      ((k * g.C + c) * g.R + r) * g.S + s);
              }
}

}  // namespace

std::vector<double> conv2d(const ConvGeometry& g, const std::vector<float>& x, const std::vector<float>& w,
                           const std::vector<float>* bias) {
  std::vector<double> y(static_cast<std::size_t>(g.N * g.K * g.P() * g.Q()), 0.0);
  if (bias) {
    for (std::size_t i = 0; i < y.size(); ++i) y[i] = (*bias)[(i / (g.P() * g.Q())) % g.K];
  }
  for_each_term(g, [&](int64_t yi, int64_t xi, int64_t wi) { y[yi] += double(x[xi]) * w[wi]; });
  return y;
}

std::vector<double> conv2d_grad_input(const ConvGeometry& g, const std::vector<float>& dy,
                                      const std::vector<float>& w) {
  std::vector<double> dx(static_cast<std::size_t>(g.N * g.C * g.H * g.W), 0.0);
  for_each_term(g, [&](int64_t yi, int64_t xi, int64_t wi) { dx[xi] += double(dy[yi]) * w[wi]; });
  return dx;
}

std::vector<double> conv2d_grad_weight(const ConvGeometry& g, const std::vector<float>& x,
                                       const std::vector<float>& dy) {
  std::vector<double> dw(static_cast<std::size_t>(g.K * g.C * g.R * g.S), 0.0);
  for_each_term(g, [&](int64_t yi, int64_t xi, int64_t wi) { dw[wi] += double(dy[yi]) * x[xi]; });
  return dw;
}

std::vector<double> conv2d_grad_bias(const ConvGeometry& g, const std::vector<float>& dy) {
  std::vector<double> db(static_cast<std::size_t>(g.K), 0.0);
  for (std::size_t i = 0; i < dy.size(); ++i) db[(i / (g.P() * g.Q())) % g.K] += dy[i];
  return db;
}

}  // namespace wise::reference
