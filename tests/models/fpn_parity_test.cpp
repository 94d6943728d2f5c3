// Parity with torchvision for the FPN (models/fpn.h) and the nearest resize its
// top-down path uses (nn/resize_nearest.h), read from tests/fixtures/data/fpn.safetensors
// (families/fpn.py): torchvision.ops.FeaturePyramidNetwork + LastLevelMaxPool with
// torch's weights (biases made non-zero), outputs P2..P6, and autograd's feature and
// parameter gradients for fixed output gradients. The composed ResNet-FPN backbones are
// resnet_fpn_parity_test.cpp.
//
// Tolerances, and why:
//   resize_nearest: forward copies, backward adds each input's children from zero in
//     torch's scatter order: exact.
//   FPN: oneDNN's and torch's convolutions sum the same products in other orders (and
//     oneDNN fuses the top-down add), float32 accumulations over at most 9 * 64 terms of
//     unit scale: relative 1e-4 of the largest magnitude of each tensor (the bar).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <tuple>
#include <vector>

#include "models/fpn.h"
#include "nn/resize_nearest.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/fixtures.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

std::vector<double> as_doubles(const std::vector<float>& values) { return {values.begin(), values.end()}; }

// |actual - expected| <= 1e-4 * max|expected| elementwise (relative to the tensor's scale).
::testing::AssertionResult close_relative_to_scale(const Tensor& actual, const std::vector<float>& expected,
                                                   double relative = 1e-4) {
  double scale = 0.0;
  for (float value : expected) scale = std::max(scale, static_cast<double>(std::fabs(value)));
  if (actual.shape().numel() != static_cast<int64_t>(expected.size())) {
    return ::testing::AssertionFailure() << "got " << actual.describe() << " for " << expected.size()
                                         << " expected values";
  }
  return all_close(host_floats(actual.to_format(MemoryFormat::plain)), as_doubles(expected),
                   {0.0, relative * std::max(scale, 1e-30)});
}

// Every row runs per device (CUDA rows skip without a GPU); the case's name is the fixture's.
using DeviceAndCase = std::tuple<Device, std::string>;

std::string device_and_case_name(const ::testing::TestParamInfo<DeviceAndCase>& param) {
  return std::string(kernels::device_name(std::get<0>(param.param))) + "_" + std::get<1>(param.param);
}

class FpnParity : public ::testing::TestWithParam<DeviceAndCase> {};

TEST_P(FpnParity, OutputsAndGradientsMatchTorchvision) {
  const Device device = std::get<0>(GetParam());
  WISE_SKIP_IF_UNAVAILABLE(device);
  const Fixture fixture = load_fixture("fpn");
  const std::string name = "fpn_" + std::get<1>(GetParam());
  // The configuration, from the stored tensors' shapes.
  std::vector<Tensor> features;
  for (int i = 0; fixture.has(name + ".C" + std::to_string(i)); ++i) {
    features.push_back(fixture.tensor(name + ".C" + std::to_string(i)).to(device));
  }
  const auto L = features.size();
  ASSERT_GE(L, 2u);
  FeaturePyramidNetworkConfig config;
  for (const Tensor& feature : features) config.in_channels_list.push_back(feature.size(1));
  config.out_channels = fixture.tensor(name + ".inner_blocks.0.0.weight").size(0);

  ParameterBuffer parameters;
  const FeaturePyramidNetwork fpn = declare_feature_pyramid_network(parameters, "", config);
  parameters.allocate(device);
  for (const auto& [parameter, value] : parameters.named_values()) {
    Tensor destination = value;
    destination.copy_from(fixture.tensor(name + "." + parameter));  // every torchvision name exists
  }

  FeaturePyramidActivations activations;
  feature_pyramid_network_forward(fpn, parameters, features, activations);
  ASSERT_EQ(activations.outputs.size(), L + 1);
  std::vector<Tensor> d_outputs;
  for (size_t i = 0; i <= L; ++i) {
    SCOPED_TRACE("P" + std::to_string(i));
    EXPECT_TRUE(close_relative_to_scale(activations.outputs[i], fixture.floats(name + ".P" + std::to_string(i))));
    d_outputs.push_back(fixture.tensor(name + ".d_P" + std::to_string(i)).to(device));
  }

  std::vector<Tensor> d_features;
  for (const Tensor& feature : features) d_features.push_back(Tensor::zeros(feature.shape(), DType::float32, device));
  FeaturePyramidGradients scratch;
  feature_pyramid_network_backward(fpn, parameters, features, activations, d_outputs, d_features, scratch);
  for (size_t i = 0; i < L; ++i) {
    SCOPED_TRACE("d_C" + std::to_string(i));
    EXPECT_TRUE(close_relative_to_scale(d_features[i], fixture.floats(name + ".d_C" + std::to_string(i))));
  }
  for (int p = 0; p < parameters.size(); ++p) {
    SCOPED_TRACE("gradient of " + parameters.name(p));
    EXPECT_TRUE(close_relative_to_scale(parameters.gradient(p), fixture.floats(name + ".grad." + parameters.name(p))));
  }
}

INSTANTIATE_TEST_SUITE_P(Fpn, FpnParity,
                         ::testing::Combine(::testing::ValuesIn(all_devices()),
                                            ::testing::Values("resnet_sizes", "general_sizes")),
                         device_and_case_name);

// The resize alone, exact both ways; the output buffer's blocked layout is kept.
class FpnNearestResizeParity : public ::testing::TestWithParam<DeviceAndCase> {};

TEST_P(FpnNearestResizeParity, ForwardAndBackwardAreExact) {
  const Device device = std::get<0>(GetParam());
  WISE_SKIP_IF_UNAVAILABLE(device);
  const Fixture fixture = load_fixture("fpn");
  const std::string name = "resize_nearest_" + std::get<1>(GetParam());
  const Tensor x = fixture.tensor(name + ".x").to(device);
  const Tensor expected_y = fixture.tensor(name + ".y");
  for (const MemoryFormat format : {MemoryFormat::plain, MemoryFormat::nchw16c}) {
    SCOPED_TRACE(kernels::memory_format_name(format));
    Tensor y = Tensor::empty(expected_y.shape(), DType::float32, device, format);
    resize_nearest_forward(x, {expected_y.size(2), expected_y.size(3)}, y);
    EXPECT_EQ(y.format(), format);
    EXPECT_TRUE(all_close(host_floats(y), as_doubles(fixture.floats(name + ".y")), kExact));
    Tensor d_x = Tensor::zeros(x.shape(), DType::float32, device, format);
    resize_nearest_backward(fixture.tensor(name + ".d_y").to(device).to_format(format), d_x);
    EXPECT_TRUE(all_close(host_floats(d_x), as_doubles(fixture.floats(name + ".d_x")), kExact));
  }
}

INSTANTIATE_TEST_SUITE_P(Fpn, FpnNearestResizeParity,
                         ::testing::Combine(::testing::ValuesIn(all_devices()),
                                            ::testing::Values("1x2x3x4_to_10x10", "1x2x7x5_to_4x3",
                                                              "2x3x5x5_to_9x9", "1x2x4x6_to_8x12",
                                                              "1x1x6x2_to_5x7")),
                         device_and_case_name);

}  // namespace
}  // namespace wise::testing
