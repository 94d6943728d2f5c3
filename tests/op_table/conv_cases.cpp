// Op-table rows for nn/conv2d.h (kernels/convolution.h underneath) against the
// naive double convolution of tests/reference/conv_reference.h.
#include <algorithm>
#include <cmath>

#include "nn/conv2d.h"
#include "nn/conv_transpose2d.h"
#include "tests/reference/conv_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

struct ConvCase {
  const char* name;
  reference::ConvGeometry geometry;
  bool bias;
};

const ConvCase kCases[] = {
    {"stem_7x7_s2_c3", {1, 3, 17, 19, 8, 7, 7, 2, 3, 1}, false},
    {"3x3_s1_batch2_bias", {2, 16, 9, 9, 16, 3, 3, 1, 1, 1}, true},
    {"3x3_s2_odd_input", {1, 32, 15, 15, 16, 3, 3, 2, 1, 1}, false},
    {"1x1_batch2", {2, 8, 10, 12, 24, 1, 1, 1, 0, 1}, true},
    {"1x1_s2", {1, 16, 13, 11, 32, 1, 1, 2, 0, 1}, false},
    {"3x3_dilation2", {1, 8, 12, 12, 8, 3, 3, 1, 2, 2}, true},
    {"odd_channels", {1, 5, 6, 7, 3, 3, 3, 1, 0, 1}, true},
};

// Float convolutions sum C*R*S products: allow a relative error that grows with
// the length of the sum, on the scale of the largest reference value.
Tolerance conv_tolerance(const reference::ConvGeometry&, const std::vector<double>& expected, int64_t terms) {
  double scale = 1e-6;
  for (double value : expected) scale = std::max(scale, std::fabs(value));
  return {1e-5, 2e-6 * std::sqrt(static_cast<double>(terms)) * scale};
}

Conv2dOptions options_of(const reference::ConvGeometry& g) { return {g.stride, g.padding, g.dilation}; }

std::vector<OpCase> conv_cases() {
  std::vector<OpCase> cases;
  for (const ConvCase& c : kCases) {
    const reference::ConvGeometry g = c.geometry;
    const bool has_bias = c.bias;
    const int64_t x_count = g.N * g.C * g.H * g.W, w_count = g.K * g.C * g.R * g.S;
    const int64_t y_count = g.N * g.K * g.P() * g.Q();
    const Shape x_shape{g.N, g.C, g.H, g.W}, w_shape{g.K, g.C, g.R, g.S}, y_shape{g.N, g.K, g.P(), g.Q()};

    cases.push_back({std::string("conv2d_forward_") + c.name, [=](Device device, uint64_t seed) {
      const auto x = random_floats(x_count, seed), w = random_floats(w_count, seed + 1);
      const auto b = random_floats(g.K, seed + 2);
      Tensor output;
      conv2d_forward(on_device(x, x_shape, device), on_device(w, w_shape, device),
                     has_bias ? on_device(b, Shape{g.K}, device) : Tensor(), options_of(g), output);
      EXPECT_EQ(output.shape(), y_shape);
      const auto expected = reference::conv2d(g, x, w, has_bias ? &b : nullptr);
      EXPECT_TRUE(all_close(output.to_vector<float>(), expected, conv_tolerance(g, expected, g.C * g.R * g.S)));
    }});

    cases.push_back({std::string("conv2d_forward_residual_relu_") + c.name, [=](Device device, uint64_t seed) {
      const auto x = random_floats(x_count, seed), w = random_floats(w_count, seed + 1);
      const auto b = random_floats(g.K, seed + 2), residual = random_floats(y_count, seed + 3);
      const Tensor input = on_device(x, x_shape, device), weight = on_device(w, w_shape, device);
      const Tensor bias = has_bias ? on_device(b, Shape{g.K}, device) : Tensor();
      const auto formats = conv2d_formats(input, weight, options_of(g));
      Tensor output = on_device(residual, y_shape, device).to_format(formats.output);
      conv2d_forward(input, weight, bias, options_of(g), output, {/*relu=*/true, /*add_to_output=*/true});
      auto expected = reference::conv2d(g, x, w, has_bias ? &b : nullptr);
      for (size_t i = 0; i < expected.size(); ++i) expected[i] = std::max(0.0, expected[i] + residual[i]);
      EXPECT_TRUE(all_close(output.to_vector<float>(), expected, conv_tolerance(g, expected, g.C * g.R * g.S)));
    }});

    cases.push_back({std::string("conv2d_backward_") + c.name, [=](Device device, uint64_t seed) {
      const auto x = random_floats(x_count, seed), w = random_floats(w_count, seed + 1);
      const auto dy = random_floats(y_count, seed + 2);
      // Non-zero gradients already there: the layer must add to them.
      const auto dx0 = random_floats(x_count, seed + 3), dw0 = random_floats(w_count, seed + 4);
      const auto db0 = random_floats(g.K, seed + 5);
      Tensor d_input = on_device(dx0, x_shape, device), d_weight = on_device(dw0, w_shape, device);
      Tensor d_bias = on_device(db0, Shape{g.K}, device);
      conv2d_backward(on_device(x, x_shape, device), on_device(w, w_shape, device), on_device(dy, y_shape, device),
                      options_of(g), &d_input, &d_weight, has_bias ? &d_bias : nullptr);
      auto dx = reference::conv2d_grad_input(g, dy, w);
      auto dw = reference::conv2d_grad_weight(g, x, dy);
      auto db = reference::conv2d_grad_bias(g, dy);
      for (size_t i = 0; i < dx.size(); ++i) dx[i] += dx0[i];
      for (size_t i = 0; i < dw.size(); ++i) dw[i] += dw0[i];
      for (size_t i = 0; i < db.size(); ++i) db[i] = (has_bias ? db[i] : 0.0) + db0[i];
      EXPECT_TRUE(all_close(d_input.to_vector<float>(), dx, conv_tolerance(g, dx, g.K * g.R * g.S))) << "d_input";
      EXPECT_TRUE(all_close(d_weight.to_vector<float>(), dw, conv_tolerance(g, dw, g.N * g.P() * g.Q()))) << "d_weight";
      EXPECT_TRUE(all_close(d_bias.to_vector<float>(), db, conv_tolerance(g, db, g.N * g.P() * g.Q()))) << "d_bias";
    }});
  }
  // Transposed convolutions: the gradient-input of their mirror convolution.
  struct TransposeCase {
    const char* name;
    int64_t N, C_in, H, W, C_out, kernel, stride, padding, output_padding;
  };
  for (const TransposeCase& t : {TransposeCase{"mask_head_2x2_s2", 2, 16, 7, 7, 8, 2, 2, 0, 0},
                                 TransposeCase{"3x3_s2_p1_op1", 1, 5, 6, 5, 3, 3, 2, 1, 1},
                                 TransposeCase{"3x3_s1_p1", 1, 4, 5, 5, 6, 3, 1, 1, 0}}) {
    cases.push_back({std::string("conv_transpose2d_forward_") + t.name, [=](Device device, uint64_t seed) {
      const int64_t Ho = (t.H - 1) * t.stride - 2 * t.padding + t.kernel + t.output_padding;
      const int64_t Wo = (t.W - 1) * t.stride - 2 * t.padding + t.kernel + t.output_padding;
      const reference::ConvGeometry mirror{t.N, t.C_out, Ho, Wo, t.C_in, t.kernel, t.kernel, t.stride, t.padding, 1};
      const auto x = random_floats(t.N * t.C_in * t.H * t.W, seed);
      const auto w = random_floats(t.C_in * t.C_out * t.kernel * t.kernel, seed + 1);
      const auto b = random_floats(t.C_out, seed + 2);
      Tensor y;
      conv_transpose2d_forward(on_device(x, Shape{t.N, t.C_in, t.H, t.W}, device),
                               on_device(w, Shape{t.C_in, t.C_out, t.kernel, t.kernel}, device),
                               on_device(b, Shape{t.C_out}, device), {t.stride, t.padding, t.output_padding, 1}, y);
      ASSERT_EQ(y.shape(), Shape({t.N, t.C_out, Ho, Wo}));
      auto expected = reference::conv2d_grad_input(mirror, x, w);
      for (size_t i = 0; i < expected.size(); ++i) expected[i] += b[(i / (Ho * Wo)) % t.C_out];
      EXPECT_TRUE(all_close(y.to_vector<float>(), expected, conv_tolerance(mirror, expected, t.C_in * t.kernel * t.kernel)));
    }});
  }
  return cases;
}

const OpCaseRegistrar register_conv(conv_cases());

}  // namespace
}  // namespace wise::testing
