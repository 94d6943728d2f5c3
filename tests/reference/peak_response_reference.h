// Naive double-precision reference for PRM's peak backpropagation (kernels/peak_response.h,
// nn/peak_response.h), written from the rule in PRM's paper and released code, not from
// the kernels: the per-sample minimum is std::min_element, the two convolutions are
// tests/reference/conv_reference.h's direct loops, everything in double.
#pragma once

#include <cstdint>
#include <vector>

#include "tests/reference/conv_reference.h"

namespace wise::reference {

// x - min over each sample of M elements.
std::vector<double> peak_response_shift(const std::vector<float>& x, int64_t N, int64_t M);

// z < eps ? 0 : g / (|z| + eps), elementwise.
std::vector<double> peak_response_normalize(const std::vector<float>& g, const std::vector<float>& z, double eps);

// prior + x~ (.) W+^T (g / (W+ x~ + eps)) (0 where W+ x~ < eps), x~ = x - min per sample.
std::vector<double> conv2d_peak_response_backward(const ConvGeometry& geometry, const std::vector<float>& x,
                                                  const std::vector<float>& weight,
                                                  const std::vector<float>& d_output, double eps,
                                                  const std::vector<float>& prior);

// max(sum_c d[sample, c], 0) over (H, W), divided by its sum (mode 0), its max (1) or by
// nothing (2); an all-zero map stays zero.
std::vector<double> peak_response_map(const std::vector<float>& d, int64_t C, int64_t H, int64_t W,
                                      int64_t sample, int mode);

}  // namespace wise::reference
