// The composed ResNet-FPN backbone (models/resnet_fpn.h) against torchvision's
// BackboneWithFPN (resnet_fpn_backbone's), read from tests/fixtures/data/resnet18_fpn and
// resnet50_fpn.safetensors (families/_resnet_fpn.py): reduced widths, FrozenBatchNorm2d
// with random statistics, trainable_layers 3, FPN out_channels 16, a 36 x 28 image.
// Checked: every torchvision state-dict name loads into the buffer (and nothing is left
// over), P2..P6 in inference and in training mode, and in training mode the image
// gradient and a sample of weight gradients, with the frozen stages given none.
//
// Tolerance: relative 1e-4 of each tensor's largest magnitude (the bar). oneDNN
// and torch sum each convolution in other orders, and wise folds every FrozenBatchNorm2d
// into its convolution (torch scales after): float32 roundings through 18 / 50 layers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "models/resnet_fpn.h"
#include "nn/state_dict.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/fixtures.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

const char* const kPrefix = "backbone.";

std::vector<double> as_doubles(const std::vector<float>& values) { return {values.begin(), values.end()}; }

::testing::AssertionResult close_relative_to_scale(const Tensor& actual, const std::vector<float>& expected) {
  double scale = 0.0;
  for (float value : expected) scale = std::max(scale, static_cast<double>(std::fabs(value)));
  if (actual.numel() != static_cast<int64_t>(expected.size())) {
    return ::testing::AssertionFailure() << "got " << actual.describe() << " for " << expected.size()
                                         << " expected values";
  }
  return all_close(host_floats(actual.to_format(MemoryFormat::plain)), as_doubles(expected), {0.0, 1e-4 * scale});
}

// The case's configuration, from its config tensor [depth, 1 / m, out_channels, trainable_layers].
ResNetFpnConfig config_of(const Fixture& fixture, const std::string& name) {
  const std::vector<int64_t> config = fixture.int64s(name + ".config");
  ResNetFpnConfig result;
  result.body.depth = static_cast<int>(config.at(0));
  result.body.width_multiplier = 1.0 / static_cast<double>(config.at(1));
  result.body.norm = Normalization::frozen_batch_norm;
  result.body.trainable_layers = static_cast<int>(config.at(3));
  result.out_channels = config.at(2);
  return result;
}

// Every row runs per device (CUDA rows skip without a GPU).
using DeviceAndCase = std::tuple<Device, std::string>;

std::string device_and_case_name(const ::testing::TestParamInfo<DeviceAndCase>& param) {
  return std::get<1>(param.param) + "_" + kernels::device_name(std::get<0>(param.param));
}

class ResNetFpnParity : public ::testing::TestWithParam<DeviceAndCase> {
 protected:
  void SetUp() override {
    WISE_SKIP_IF_UNAVAILABLE(device());
    fixture_ = load_fixture(name() + "_fpn");
    build(/*image_gradient=*/false);
  }

  // The backbone with the fixture's weights; image_gradient: ResNetConfig's (whether the
  // frozen stages keep activations for dL/d images).
  void build(bool image_gradient) {
    backbone_.reset();
    parameters_ = ParameterBuffer();
    ResNetFpnConfig config = config_of(fixture_, name());
    config.body.image_gradient = image_gradient;
    backbone_ = std::make_unique<ResNetFpnBackbone>(config, parameters_, kPrefix);
    parameters_.allocate(device());
    for (const auto& [parameter, value] : parameters_.named_values()) {
      ASSERT_EQ(parameter.rfind(kPrefix, 0), 0u) << parameter;
      Tensor destination = value;
      destination.copy_from(fixture_.tensor(name() + "." + parameter.substr(std::string(kPrefix).size())));
    }
  }

  Device device() const { return std::get<0>(GetParam()); }
  const std::string& name() const { return std::get<1>(GetParam()); }
  Tensor stored(const std::string& what) const { return fixture_.tensor(name() + "." + what).to(device()); }

  void expect_outputs_match(const std::vector<Tensor>& outputs) const {
    ASSERT_EQ(outputs.size(), 5u);
    for (size_t i = 0; i < outputs.size(); ++i) {
      SCOPED_TRACE(std::string("output \"") + ResNetFpnBackbone::output_name(static_cast<int>(i)) + "\"");
      EXPECT_TRUE(close_relative_to_scale(outputs[i], fixture_.floats(name() + ".P" + std::to_string(i))));
    }
  }

  std::vector<Tensor> output_gradients() const {
    std::vector<Tensor> d_outputs;
    for (int i = 0; i < ResNetFpnBackbone::kLevels; ++i) {
      d_outputs.push_back(stored("d_P" + std::to_string(i)));
    }
    return d_outputs;
  }

  void expect_sampled_gradients_match() const {
    int sampled = 0;
    for (int p = 0; p < parameters_.size(); ++p) {
      const std::string torch_name = parameters_.name(p).substr(std::string(kPrefix).size());
      const std::string key = name() + ".grad." + torch_name;
      if (!fixture_.has(key)) continue;
      ++sampled;
      SCOPED_TRACE("gradient of " + parameters_.name(p));
      ASSERT_TRUE(parameters_.gradient(p).defined());
      EXPECT_TRUE(close_relative_to_scale(parameters_.gradient(p), fixture_.floats(key)));
    }
    EXPECT_GE(sampled, 7);
  }

  Fixture fixture_{"", {}, {}};
  ParameterBuffer parameters_;
  std::unique_ptr<ResNetFpnBackbone> backbone_;
};

TEST_P(ResNetFpnParity, EveryTorchvisionStateDictEntryLoadsByName) {
  // SetUp found every buffer name in the file; conversely every state-dict entry of the
  // file (the names under <case>.body. and <case>.fpn.) must be one of the buffer's.
  int state_entries = 0;
  for (const auto& [stored, tensor] : read_tensors(fixture_.path())) {
    for (const std::string part : {".body.", ".fpn."}) {
      if (stored.rfind(name() + part, 0) != 0) continue;
      ++state_entries;
      EXPECT_NO_THROW(parameters_.index_of(kPrefix + stored.substr(name().size() + 1))) << stored;
    }
  }
  EXPECT_EQ(state_entries, parameters_.size());
  EXPECT_TRUE(fixture_.has(name() + ".body.layer4.0.downsample.1.running_var"));
  EXPECT_FALSE(parameters_.trainable(parameters_.index_of("backbone.body.layer1.0.conv1.weight")));
  EXPECT_TRUE(parameters_.trainable(parameters_.index_of("backbone.body.layer2.0.conv1.weight")));
  EXPECT_TRUE(parameters_.trainable(parameters_.index_of("backbone.fpn.layer_blocks.0.0.weight")));
}

TEST_P(ResNetFpnParity, InferenceOutputsMatchTorchvision) {
  expect_outputs_match(backbone_->forward(stored("images"), /*training=*/false));
}

TEST_P(ResNetFpnParity, TrainingOutputsImageGradientAndWeightGradientsMatchTorchvision) {
  build(/*image_gradient=*/true);
  const Tensor images = stored("images");
  expect_outputs_match(backbone_->forward(images, /*training=*/true));
  Tensor d_images = Tensor::zeros(images.shape(), DType::float32, device());
  backbone_->backward(output_gradients(), &d_images);
  EXPECT_TRUE(close_relative_to_scale(d_images, fixture_.floats(name() + ".d_images")));
  expect_sampled_gradients_match();
  // Frozen stages (the stem and layer1 at trainable_layers 3) have no gradient memory.
  EXPECT_FALSE(parameters_.gradient(parameters_.index_of("backbone.body.layer1.0.conv1.weight")).defined());
  EXPECT_FALSE(parameters_.gradient(parameters_.index_of("backbone.body.conv1.weight")).defined());
}

// Without the image gradient (the default), the frozen stages run the inference path,
// backward stops at the lowest trainable stage (C2's gradient is not even formed) and the
// outputs and parameter gradients are the same; asking for d_images is a named error.
TEST_P(ResNetFpnParity, WeightGradientsWithoutTheImageGradientMatchTorchvision) {
  const Tensor images = stored("images");
  expect_outputs_match(backbone_->forward(images, /*training=*/true));
  backbone_->backward(output_gradients(), nullptr);
  expect_sampled_gradients_match();
  backbone_->forward(images, /*training=*/true);
  Tensor d_images = Tensor::zeros(images.shape(), DType::float32, device());
  EXPECT_THROW(backbone_->backward(output_gradients(), &d_images), Error);
}

TEST_P(ResNetFpnParity, BackwardAfterAnInferenceForwardIsANamedError) {
  backbone_->forward(stored("images"), /*training=*/false);
  try {
    backbone_->backward(output_gradients(), nullptr);
    ADD_FAILURE() << "no error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("needs a forward(images, training = true)"), std::string::npos)
        << error.what();
  }
}

INSTANTIATE_TEST_SUITE_P(ResNetFpn, ResNetFpnParity,
                         ::testing::Combine(::testing::ValuesIn(all_devices()),
                                            ::testing::Values("resnet18", "resnet50")),
                         device_and_case_name);

TEST(ResNetFpnBackbone, NamesItsParametersAndOutputsAsTorchvision) {
  ParameterBuffer parameters;
  ResNetFpnConfig config;
  config.body.depth = 18;
  config.body.width_multiplier = 0.125;
  config.out_channels = 32;
  const ResNetFpnBackbone backbone(config, parameters);
  EXPECT_EQ(parameters.name(0), "backbone.body.conv1.weight");
  EXPECT_GE(parameters.index_of("backbone.body.layer4.1.bn2.running_var"), 0);
  // The FPN after the body, coarsest level first; its inputs are the body's C2..C5.
  EXPECT_EQ(parameters.name(backbone.fpn().inner_weight[3]), "backbone.fpn.inner_blocks.3.0.weight");
  EXPECT_EQ(parameters.name(parameters.size() - 1), "backbone.fpn.layer_blocks.0.0.bias");
  EXPECT_EQ(backbone.fpn().config.in_channels_list, (std::vector<int64_t>{8, 16, 32, 64}));
  const std::vector<std::string> names = {"0", "1", "2", "3", "pool"};
  for (int level = 0; level < ResNetFpnBackbone::kLevels; ++level) {
    EXPECT_EQ(ResNetFpnBackbone::output_name(level), names[static_cast<size_t>(level)]);
  }
  EXPECT_THROW(ResNetFpnBackbone::output_name(5), Error);
}

}  // namespace
}  // namespace wise::testing
