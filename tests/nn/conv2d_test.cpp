// conv2d and linear layers: gradients by finite differences, chains that stay in
// the backend's layout, and named errors.
#include <gtest/gtest.h>

#include "nn/activation.h"
#include "nn/conv2d.h"
#include "nn/conv_transpose2d.h"
#include "nn/linear.h"
#include "tests/reference/conv_reference.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/errors.h"
#include "tests/support/gradient_checker.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, Device device) {
  return on_device(random_floats(shape.numel(), seed), shape, device);
}

// Gradients of conv + bias w.r.t. input, weight and bias. (The fused ReLU is
// checked by the op table's residual_relu rows and relu_backward's own checks:
// its kink lies at the output, which a finite-difference step cannot avoid.)
DifferentiableOp conv_op(Device device, const Shape& input, const Shape& weight, Conv2dOptions options) {
  DifferentiableOp op;
  op.name = "conv2d";
  op.inputs = {random_tensor(input, 1, device), random_tensor(weight, 2, device),
               random_tensor({weight[0]}, 3, device)};
  op.forward = [options](const std::vector<Tensor>& in, uint64_t) {
    Tensor y;
    conv2d_forward(in[0], in[1], in[2], options, y);
    return std::vector<Tensor>{y};
  };
  op.backward = [options](const std::vector<Tensor>& in, const std::vector<Tensor>& out,
                          const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    (void)out;
    conv2d_backward(in[0], in[1], d_out[0], options, &d_in[0], &d_in[1], &d_in[2]);
  };
  return op;
}

class Conv2dLayer : public ::testing::TestWithParam<Device> {};

TEST_P(Conv2dLayer, GradientsMatchFiniteDifferences) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  GradientCheckOptions options;
  options.step = 1e-2;
  options.max_checks_per_input = 60;
  for (Conv2dOptions geometry : {Conv2dOptions{1, 1, 1}, Conv2dOptions{2, 1, 1}, Conv2dOptions{1, 2, 2}}) {
    EXPECT_TRUE(gradients_match(check_gradients(conv_op(device, {2, 3, 7, 6}, {4, 3, 3, 3}, geometry), options)));
  }
  // Blocked layouts (16 channels) and stride 2 on an odd input.
  EXPECT_TRUE(gradients_match(check_gradients(conv_op(device, {1, 16, 5, 7}, {16, 16, 3, 3}, {2, 1, 1}), options)));
}

TEST_P(Conv2dLayer, LinearGradientsMatchFiniteDifferences) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  DifferentiableOp op;
  op.inputs = {random_tensor({5, 7}, 4, device), random_tensor({3, 7}, 5, device), random_tensor({3}, 6, device)};
  op.forward = [](const std::vector<Tensor>& in, uint64_t) {
    Tensor y;
    linear_forward(in[0], in[1], in[2], y);
    return std::vector<Tensor>{y};
  };
  op.backward = [](const std::vector<Tensor>& in, const std::vector<Tensor>&, const std::vector<Tensor>& d_out,
                   std::vector<Tensor>& d_in, uint64_t) {
    linear_backward(in[0], in[1], d_out[0], &d_in[0], &d_in[1], &d_in[2]);
  };
  EXPECT_TRUE(gradients_match(check_gradients(op, {})));
}

TEST_P(Conv2dLayer, ConvTransposeGradientsMatchFiniteDifferences) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  for (ConvTranspose2dOptions options : {ConvTranspose2dOptions{2, 0, 0, 1}, ConvTranspose2dOptions{2, 1, 1, 1}}) {
    DifferentiableOp op;
    op.inputs = {random_tensor({2, 16, 3, 4}, 11, device), random_tensor({16, 3, 2, 2}, 12, device),
                 random_tensor({3}, 13, device)};
    if (options.padding == 1) op.inputs[1] = random_tensor({16, 3, 3, 3}, 12, device);
    op.forward = [options](const std::vector<Tensor>& in, uint64_t) {
      Tensor y;
      conv_transpose2d_forward(in[0], in[1], in[2], options, y);
      return std::vector<Tensor>{y};
    };
    op.backward = [options](const std::vector<Tensor>& in, const std::vector<Tensor>&,
                            const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
      conv_transpose2d_backward(in[0], in[1], d_out[0], options, &d_in[0], &d_in[1], &d_in[2]);
    };
    GradientCheckOptions check;
    check.max_checks_per_input = 60;
    EXPECT_TRUE(gradients_match(check_gradients(op, check))) << "padding " << options.padding;
  }
}

// A chain of convolutions hands each output to the next in the layout that
// convolution wants (no reorder), and still computes the NCHW reference chain.
TEST_P(Conv2dLayer, ChainStaysInTheBackendLayoutAndMatchesTheReference) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const auto x = random_floats(1 * 3 * 20 * 18, 7);
  const auto w1 = random_floats(16 * 3 * 7 * 7, 8), w2 = random_floats(16 * 16 * 3 * 3, 9);
  const auto w3 = random_floats(32 * 16 * 1 * 1, 10);
  Tensor a, b, c;
  const Tensor weight1 = on_device(w1, Shape{16, 3, 7, 7}, device);
  const Tensor weight2 = on_device(w2, Shape{16, 16, 3, 3}, device);
  const Tensor weight3 = on_device(w3, Shape{32, 16, 1, 1}, device);
  conv2d_forward(on_device(x, Shape{1, 3, 20, 18}, device), weight1, Tensor(), {2, 3, 1}, a);
  EXPECT_EQ(conv2d_formats(a, weight2, {1, 1, 1}).input, a.format()) << "conv 2 would reorder its input";
  conv2d_forward(a, weight2, Tensor(), {1, 1, 1}, b);
  EXPECT_EQ(conv2d_formats(b, weight3, {2, 0, 1}).input, b.format()) << "conv 3 would reorder its input";
  conv2d_forward(b, weight3, Tensor(), {2, 0, 1}, c);
  if (device == Device::cpu) {
    EXPECT_NE(b.format(), MemoryFormat::plain) << "oneDNN chose plain NCHW";
  }

  const reference::ConvGeometry g1{1, 3, 20, 18, 16, 7, 7, 2, 3, 1};
  const reference::ConvGeometry g2{1, 16, g1.P(), g1.Q(), 16, 3, 3, 1, 1, 1};
  const reference::ConvGeometry g3{1, 16, g2.P(), g2.Q(), 32, 1, 1, 2, 0, 1};
  auto to_float = [](const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); };
  const auto r1 = reference::conv2d(g1, x, w1, nullptr);
  const auto r2 = reference::conv2d(g2, to_float(r1), w2, nullptr);
  const auto r3 = reference::conv2d(g3, to_float(r2), w3, nullptr);
  double scale = 0;
  for (double v : r3) scale = std::max(scale, std::fabs(v));
  EXPECT_TRUE(all_close(c.to_vector<float>(), r3, {1e-4, 1e-5 * scale}));
}

INSTANTIATE_TEST_SUITE_P(Devices, Conv2dLayer, ::testing::ValuesIn(all_devices()), device_test_name);

TEST(Conv2dErrors, NameTheTensorAndTheExpectedShape) {
  Tensor out;
  EXPECT_NE(error_of([&] { conv2d_forward(Tensor::zeros({1, 3, 8, 8}), Tensor::zeros({4, 5, 3, 3}), Tensor(), {}, out); })
                .find("conv2d: weight [4, 5, 3, 3] expects 5 input channels, input float32[1, 3, 8, 8] cpu plain has 3"),
            std::string::npos);
  EXPECT_NE(error_of([&] { conv2d_forward(Tensor::zeros({1, 3, 2, 2}), Tensor::zeros({4, 3, 3, 3}), Tensor(), {}, out); })
                .find("smaller than the dilated kernel"),
            std::string::npos);
  EXPECT_NE(error_of([&] { linear_forward(Tensor::zeros({2, 3}), Tensor::zeros({4, 5}), Tensor(), out); })
                .find("linear: weight must have shape [out_features, 3], got float32[4, 5]"),
            std::string::npos);
}

}  // namespace
}  // namespace wise::testing
