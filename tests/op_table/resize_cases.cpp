// Op-table rows for nn/resize.h (nearest x2 upsampling, bilinear resizing) against the
// naive references in tests/reference/resize_reference.h.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "nn/resize.h"
#include "tests/reference/resize_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

std::string dims(int64_t N, int64_t C, int64_t H, int64_t W) {
  return std::to_string(N) + "x" + std::to_string(C) + "x" + std::to_string(H) + "x" +
         std::to_string(W);
}

std::vector<OpCase> nearest_cases() {
  const int64_t shapes[][4] = {{2, 3, 4, 5}, {1, 2, 7, 9}, {1, 1, 1, 1}, {2, 16, 25, 34}};
  std::vector<OpCase> cases;
  for (const auto& s : shapes) {
    const int64_t N = s[0], C = s[1], H = s[2], W = s[3];
    cases.push_back(
        {"upsample_nearest2x_" + dims(N, C, H, W), [=](Device device, uint64_t seed) {
           const auto x = random_floats(N * C * H * W, seed);
           Tensor output;
           upsample_nearest2x_forward(on_device(x, {N, C, H, W}, device), output);
           ASSERT_EQ(output.shape(), Shape({N, C, 2 * H, 2 * W}));
           EXPECT_TRUE(all_close(host_floats(output), reference::upsample_nearest2x(x, N, C, H, W),
                                 kExact));
           const auto d_output = random_floats(output.numel(), seed + 1);
           const auto prior = random_floats(N * C * H * W, seed + 2);
           Tensor d_input = on_device(prior, {N, C, H, W}, device);
           upsample_nearest2x_backward(on_device(d_output, output.shape(), device), d_input);
           // Four float additions against one double sum.
           EXPECT_TRUE(all_close(
               host_floats(d_input),
               reference::upsample_nearest2x_backward(d_output, N, C, H, W, prior), {1e-6, 1e-6}));
         }});
  }
  return cases;
}

struct BilinearShape {
  int64_t N, C, H, W, Ho, Wo;
};

// Up, down, mixed, identity, to and from 1 x 1, PRM's x8 CAM upsampling, and one
// large enough for the CPU launcher's parallel path.
const BilinearShape kBilinearShapes[] = {
    {2, 3, 7, 9, 15, 20}, {2, 3, 15, 15, 8, 6}, {1, 2, 10, 3, 4, 11},
    {1, 2, 6, 8, 6, 8},   {1, 1, 1, 1, 3, 4},   {1, 2, 9, 7, 1, 1},
    {1, 3, 5, 5, 40, 40}, {1, 2, 100, 3, 7, 2}, {2, 20, 14, 14, 112, 112}};

// The kernels compute source coordinates in float (as torch does), the reference in
// double. src < max(in) carries at most ~3 roundings: |error| <= 2^-22 * max(H, W), and each
// weight moves by as much. An output mixes values in [-1, 1] (neighbour differences <= 2)
// along two axes; an input gradient sums at most (Ho / H + 2) (Wo / W + 2) terms with
// |d_output| <= 1. Plus a few roundings of the sums themselves.
Tolerance bilinear_forward_tolerance(const BilinearShape& s) {
  const double coordinate_error = 2.4e-7 * static_cast<double>(std::max(s.H, s.W));
  return {1e-6, 1e-6 + 4 * coordinate_error};
}

Tolerance bilinear_backward_tolerance(const BilinearShape& s) {
  const double coordinate_error = 2.4e-7 * static_cast<double>(std::max(s.H, s.W));
  const double terms = static_cast<double>((s.Ho / s.H + 2) * (s.Wo / s.W + 2));
  return {1e-6, terms * (2 * coordinate_error + 2.4e-7)};
}

std::vector<OpCase> bilinear_cases() {
  std::vector<OpCase> cases;
  for (const BilinearShape& s : kBilinearShapes) {
    for (const bool align_corners : {false, true}) {
      const std::string name = "resize_bilinear_" + dims(s.N, s.C, s.H, s.W) + "_to_" +
                               std::to_string(s.Ho) + "x" + std::to_string(s.Wo) +
                               (align_corners ? "_align_corners" : "");
      cases.push_back(
          {name, [s, align_corners](Device device, uint64_t seed) {
             const ResizeBilinearOptions options{s.Ho, s.Wo, align_corners};
             const auto x = random_floats(s.N * s.C * s.H * s.W, seed);
             Tensor output;
             resize_bilinear_forward(on_device(x, {s.N, s.C, s.H, s.W}, device), options, output);
             ASSERT_EQ(output.shape(), Shape({s.N, s.C, s.Ho, s.Wo}));
             EXPECT_TRUE(all_close(
                 host_floats(output),
                 reference::resize_bilinear(x, s.N, s.C, s.H, s.W, s.Ho, s.Wo, align_corners),
                 bilinear_forward_tolerance(s)));
             const auto d_output = random_floats(output.numel(), seed + 1);
             const auto prior = random_floats(s.N * s.C * s.H * s.W, seed + 2);
             Tensor d_input = on_device(prior, {s.N, s.C, s.H, s.W}, device);
             resize_bilinear_backward(on_device(d_output, output.shape(), device), options,
                                      d_input);
             EXPECT_TRUE(
                 all_close(host_floats(d_input),
                           reference::resize_bilinear_backward(d_output, s.N, s.C, s.H, s.W, s.Ho,
                                                               s.Wo, align_corners, prior),
                           bilinear_backward_tolerance(s)));
           }});
    }
  }
  cases.push_back(
      {"resize_bilinear_propagates_nan", [](Device device, uint64_t seed) {
         // 1 x 1 x 4 x 4 -> 8 x 8 (align_corners=False): src = max(dst / 2 - 1/4, 0),
         // so input row 1 is a tap of output rows 0..4 (row 0 with weight 0, which
         // still propagates a NaN: torch's pattern, checked with torch 1.13).
         auto x = random_floats(16, seed);
         x[5] = std::numeric_limits<float>::quiet_NaN();
         Tensor output;
         resize_bilinear_forward(on_device(x, {1, 1, 4, 4}, device), {8, 8, false}, output);
         const auto y = host_floats(output);
         for (int64_t oh = 0; oh < 8; ++oh) {
           for (int64_t ow = 0; ow < 8; ++ow) {
             const bool tapped = oh <= 4 && ow <= 4;
             EXPECT_EQ(std::isnan(y[static_cast<size_t>(oh * 8 + ow)]), tapped) << oh << "," << ow;
           }
         }
       }});
  cases.push_back({"resize_empty_batch", [](Device device, uint64_t) {
                     const Tensor x = Tensor::zeros({0, 3, 5, 7}, DType::float32, device);
                     Tensor bilinear, nearest;
                     resize_bilinear_forward(x, {9, 4, true}, bilinear);
                     upsample_nearest2x_forward(x, nearest);
                     EXPECT_EQ(bilinear.shape(), Shape({0, 3, 9, 4}));
                     EXPECT_EQ(nearest.shape(), Shape({0, 3, 10, 14}));
                     Tensor d_input = Tensor::zeros({0, 3, 5, 7}, DType::float32, device);
                     resize_bilinear_backward(bilinear, {9, 4, true}, d_input);
                     upsample_nearest2x_backward(nearest, d_input);
                   }});
  return cases;
}

const OpCaseRegistrar register_nearest(nearest_cases());
const OpCaseRegistrar register_bilinear(bilinear_cases());

}  // namespace
}  // namespace wise::testing
