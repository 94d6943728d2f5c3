// Op-table rows for PRM's peak backpropagation (kernels/peak_response.h,
// nn/peak_response.h) against the double reference in tests/reference/peak_response_reference.h:
//  - the per-sample shift x - min x (a sample larger than the kernel's min chunk, signed
//    and all-positive values): one float rounding of the difference, rtol 1e-7;
//  - the normalisation z < eps ? 0 : g / (|z| + eps), with z = 0, z below, at and above eps:
//    two float roundings (the sum, the quotient), rtol 3e-7;
//  - conv2d_peak_response_backward at the ResNet's convolution shapes (7x7/2 stem, 3x3,
//    3x3/2, 1x1/2 downsample, 1x1 classifier), over a non-zero prior (+=), with blocked
//    and plain inputs: float32 convolutions against double loops; z is a sum of
//    non-negative terms (no cancellation) but W+^T r sums signed terms, so the bound is
//    relative to the largest |expected|: 1e-5 of it, plus rtol 1e-4;
//  - the map: channel sum, clamp, / sum, / max or none: float sums of 3 signed terms, which
//    cancel: rtol 1e-6 plus atol 1e-6 (a few roundings of the O(1) terms).
#include <cmath>
#include <string>
#include <vector>

#include "nn/peak_response.h"
#include "tests/reference/peak_response_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

double largest(const std::vector<double>& values) {
  double scale = 0.0;
  for (double value : values) scale = std::max(scale, std::abs(value));
  return scale;
}

void check_shift(int64_t N, int64_t M, float low, float high, Device device, uint64_t seed) {
  const std::vector<float> x = random_floats(N * M, seed, low, high);
  Tensor input = on_device(x, device);
  Tensor out = Tensor::empty({N * M}, DType::float32, device);
  Tensor workspace =
      Tensor::empty({kernels::peak_response_shift_workspace_size(N, M)}, DType::float32, device);
  kernels::peak_response_shift(device, input.data<float>(), N, M, workspace.data<float>(), out.data<float>());
  EXPECT_TRUE(all_close(host_floats(out), reference::peak_response_shift(x, N, M), {1e-7, 0.0}));
}

void check_normalize(Device device, uint64_t seed) {
  const float eps = kernels::kPeakResponseEps;
  std::vector<float> z = random_floats(1000, seed, 0.0f, 2.0f);
  z[0] = 0.0f;
  z[1] = 0.5f * eps;
  z[2] = eps;
  z[3] = 3.0f * eps;
  z[4] = 1e-6f;
  const std::vector<float> g = random_floats(1000, seed + 1);
  Tensor out = Tensor::empty({1000}, DType::float32, device);
  kernels::peak_response_normalize(device, on_device(g, device).data<float>(), on_device(z, device).data<float>(),
                                   eps, out.data<float>(), 1000);
  EXPECT_TRUE(all_close(host_floats(out), reference::peak_response_normalize(g, z, eps), {3e-7, 0.0}));
}

struct ConvCase {
  std::string name;
  reference::ConvGeometry geometry;
  bool relu_input;  // x >= 0 with zeros (a ReLU's output), else signed
  bool blocked;     // the input (and d_input) in the backend's blocked layout
};

void check_conv(const ConvCase& s, Device device, uint64_t seed) {
  const reference::ConvGeometry& g = s.geometry;
  std::vector<float> x = random_floats(g.N * g.C * g.H * g.W, seed, -1.0f, 1.0f);
  if (s.relu_input) {
    for (float& value : x) value = value < 0.0f ? 0.0f : value;
  }
  const std::vector<float> weight = random_floats(g.K * g.C * g.R * g.S, seed + 1, -0.5f, 0.5f);
  const std::vector<float> d_output = random_floats(g.N * g.K * g.P() * g.Q(), seed + 2);
  const std::vector<float> prior = random_floats(x.size(), seed + 3);
  Tensor input = on_device(x, {g.N, g.C, g.H, g.W}, device);
  Tensor d_input = on_device(prior, {g.N, g.C, g.H, g.W}, device);
  const Tensor weights = on_device(weight, {g.K, g.C, g.R, g.S}, device);
  const Conv2dOptions options{g.stride, g.padding, g.dilation};
  if (s.blocked) {
    const MemoryFormat format = conv2d_formats(input, weights, options).input;
    input = input.to_format(format);
    d_input = d_input.to_format(format);
  }
  conv2d_peak_response_backward(input, weights, on_device(d_output, {g.N, g.K, g.P(), g.Q()}, device), options,
                                d_input);
  const std::vector<double> expected = reference::conv2d_peak_response_backward(
      g, x, weight, d_output, static_cast<double>(kernels::kPeakResponseEps), prior);
  EXPECT_TRUE(all_close(host_floats(d_input.to_format(MemoryFormat::plain)), expected,
                        {1e-4, 1e-5 * largest(expected)}));
}

void check_map(int mode, Device device, uint64_t seed) {
  const int64_t N = 2, C = 3, H = 9, W = 11;
  const std::vector<float> d = random_floats(N * C * H * W, seed, -1.0f, 1.5f);
  const PeakResponseNormalization normalization = mode == 0   ? PeakResponseNormalization::sum
                                                  : mode == 1 ? PeakResponseNormalization::max
                                                              : PeakResponseNormalization::none;
  for (int64_t sample = 0; sample < N; ++sample) {
    Tensor map;
    peak_response_map(on_device(d, {N, C, H, W}, device), sample, normalization, map);
    ASSERT_EQ(map.shape(), Shape({H, W}));
    // The channel sum cancels (signed terms of O(1)): an absolute bound of a few float
    // roundings of the terms, 1e-6, divided by the denominator (>= 1 here) when normalised.
    EXPECT_TRUE(all_close(host_floats(map), reference::peak_response_map(d, C, H, W, sample, mode), {1e-6, 1e-6}))
        << "sample " << sample;
  }
  // An all-negative gradient clamps to zero and stays zero (PRM's 0 / 0 would be NaN).
  Tensor map;
  peak_response_map(on_device(std::vector<float>(C * H * W, -1.0f), {1, C, H, W}, device), 0, normalization, map);
  EXPECT_TRUE(all_close(host_floats(map), std::vector<double>(H * W, 0.0), kExact));
}

std::vector<OpCase> peak_response_cases() {
  std::vector<OpCase> cases;
  cases.push_back({"peak_response_shift_2x9000_signed",
                   [](Device device, uint64_t seed) { check_shift(2, 9000, -3.0f, 2.0f, device, seed); }});
  cases.push_back({"peak_response_shift_3x17_positive",
                   [](Device device, uint64_t seed) { check_shift(3, 17, 0.5f, 4.0f, device, seed); }});
  cases.push_back({"peak_response_normalize_1000", check_normalize});
  const ConvCase convs[] = {
      {"stem_7x7s2_2x3x19x17", {2, 3, 19, 17, 8, 7, 7, 2, 3, 1}, false, false},
      {"3x3_2x8x9x7_relu", {2, 8, 9, 7, 8, 3, 3, 1, 1, 1}, true, false},
      {"3x3s2_1x16x9x9_relu_blocked", {1, 16, 9, 9, 16, 3, 3, 2, 1, 1}, true, true},
      {"1x1s2_2x8x7x7_downsample", {2, 8, 7, 7, 16, 1, 1, 2, 0, 1}, true, false},
      {"1x1_classifier_2x64x3x3_blocked", {2, 64, 3, 3, 3, 1, 1, 1, 0, 1}, true, true},
  };
  for (const ConvCase& s : convs) {
    cases.push_back({"conv2d_peak_response_backward_" + s.name,
                     [s](Device device, uint64_t seed) { check_conv(s, device, seed); }});
  }
  for (int mode = 0; mode < 3; ++mode) {
    const char* names[] = {"sum", "max", "none"};
    cases.push_back({std::string("peak_response_map_2x3x9x11_") + names[mode],
                     [mode](Device device, uint64_t seed) { check_map(mode, device, seed); }});
  }
  return cases;
}

OpCaseRegistrar add_peak_response_cases(peak_response_cases());

}  // namespace
}  // namespace wise::testing
