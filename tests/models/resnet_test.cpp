// ResNet's structure and behaviour: torchvision's names and counts, the width
// rule, frozen stages, inference against an unfolded layer-by-layer reference,
// finite-difference gradients, allocation-free steps and named errors. Parity
// with torchvision itself is tests/models/resnet_parity_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "models/resnet.h"
#include "nn/activation.h"
#include "nn/allocator.h"
#include "nn/batch_norm.h"
#include "nn/conv2d.h"
#include "nn/group_norm.h"
#include "nn/pooling.h"
#include "nn/random.h"
#include "tests/support/compare.h"
#include "tests/support/gradient_checker.h"

namespace wise {
namespace {

ResNetConfig config_of(int depth, double width_multiplier, Normalization norm = Normalization::frozen_batch_norm,
                       int trainable_layers = 3) {
  ResNetConfig config;
  config.depth = depth;
  config.width_multiplier = width_multiplier;
  config.norm = norm;
  config.trainable_layers = trainable_layers;
  return config;
}

std::vector<std::string> names_of(const ParameterBuffer& buffer) {
  std::vector<std::string> names;
  for (int i = 0; i < buffer.size(); ++i) names.push_back(buffer.name(i));
  return names;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Random weights and non-trivial statistics (initialize() gives mean 0, var 1).
void randomize(const ParameterBuffer& buffer, uint64_t seed) {
  Generator generator{seed, 0};
  for (auto [name, value] : buffer.named_values()) {
    if (value.rank() == 4) {
      const double bound = std::sqrt(3.0 / static_cast<double>(value.numel() / value.size(0)));
      uniform_(value, generator, static_cast<float>(-bound), static_cast<float>(bound));
    } else if (name.find("running_var") != std::string::npos || name.find(".weight") != std::string::npos) {
      uniform_(value, generator, 0.5f, 1.5f);
    } else {
      uniform_(value, generator, -0.3f, 0.3f);
    }
  }
}

Tensor random_images(const Shape& shape, uint64_t seed) {
  Tensor images = Tensor::empty(shape);
  Generator generator{seed, 0};
  uniform_(images, generator, -1.0f, 1.0f);
  return images;
}

// ---------------------------------------------------------------------------------------
// Structure
// ---------------------------------------------------------------------------------------

TEST(ResNetStructure, WidthRuleRoundsToMultiplesOfEight) {
  EXPECT_EQ(resnet_width(64, 1.0), 64);
  EXPECT_EQ(resnet_width(512, 1.0), 512);
  EXPECT_EQ(resnet_width(64, 0.125), 8);
  EXPECT_EQ(resnet_width(64, 0.25), 16);
  EXPECT_EQ(resnet_width(64, 0.3), 16);   // 19.2 / 8 = 2.4 -> 2
  EXPECT_EQ(resnet_width(64, 0.32), 24);  // 20.48 / 8 = 2.56 -> 3
  EXPECT_EQ(resnet_width(64, 0.01), 8);   // never below 8
  EXPECT_EQ(resnet_width(512, 0.25), 128);
  EXPECT_THROW(resnet_width(64, 0.0), Error);
}

TEST(ResNetStructure, DeclaresTorchvisionNamesAndCounts) {
  // torchvision's state_dict() without fc.* and num_batches_tracked: entries, convs.
  const struct { int depth; int entries; int convs; } expected[] = {
      {18, 100, 20}, {34, 180, 36}, {50, 265, 53}, {101, 520, 104}};
  for (const auto& row : expected) {
    ParameterBuffer buffer;
    ResNet model(config_of(row.depth, 1.0), buffer);
    const auto names = names_of(buffer);
    EXPECT_EQ(buffer.size(), row.entries) << "depth " << row.depth;
    EXPECT_EQ(std::count_if(names.begin(), names.end(),
                            [](const std::string& n) { return n.find("conv") != std::string::npos ||
                                                              n.find("downsample.0") != std::string::npos; }),
              row.convs)
        << "depth " << row.depth;
    const std::vector<std::string> first{"conv1.weight", "bn1.weight", "bn1.bias", "bn1.running_mean",
                                         "bn1.running_var", "layer1.0.conv1.weight", "layer1.0.bn1.weight"};
    EXPECT_TRUE(std::equal(first.begin(), first.end(), names.begin())) << "depth " << row.depth;
    const bool bottleneck = row.depth >= 50;
    EXPECT_EQ(contains(names, "layer1.0.downsample.0.weight"), bottleneck);  // 64 -> 256 needs one
    EXPECT_EQ(contains(names, "layer1.0.conv3.weight"), bottleneck);
    EXPECT_TRUE(contains(names, "layer4.0.downsample.1.running_var"));
  }
  // The channels of C2..C5.
  ParameterBuffer b18, b50;
  EXPECT_EQ(ResNet(config_of(18, 1.0), b18).feature_channels(), (std::array<int64_t, 4>{64, 128, 256, 512}));
  EXPECT_EQ(ResNet(config_of(50, 1.0), b50).feature_channels(), (std::array<int64_t, 4>{256, 512, 1024, 2048}));
}

TEST(ResNetStructure, ParameterElementsEqualTorchvisions) {
  // sum of numel over torchvision's weights and biases (running statistics excluded).
  for (auto [depth, numel] : {std::pair<int, int64_t>{18, 11176512}, {50, 23508032}}) {
    ParameterBuffer buffer;
    ResNet model(config_of(depth, 1.0, Normalization::frozen_batch_norm, 0), buffer);
    buffer.allocate(Device::cpu);
    int64_t total = 0;
    for (const auto& [name, value] : buffer.named_values()) {
      if (name.find("running_") == std::string::npos) total += value.numel();
    }
    EXPECT_EQ(total, numel) << "depth " << depth;
  }
}

TEST(ResNetStructure, GroupNormTakesTheBatchNormsNamesWithoutStatistics) {
  ParameterBuffer buffer;
  ResNet model(config_of(18, 1.0, Normalization::group_norm, 5), buffer, "backbone.body.");
  const auto names = names_of(buffer);
  EXPECT_EQ(buffer.size(), 100 - 2 * 20);  // no running_mean / running_var
  for (const std::string& name : names) {
    EXPECT_EQ(name.rfind("backbone.body.", 0), 0u) << name;
    EXPECT_EQ(name.find("running_"), std::string::npos) << name;
  }
  EXPECT_TRUE(contains(names, "backbone.body.layer2.0.downsample.1.weight"));
  EXPECT_TRUE(contains(names, "backbone.body.bn1.bias"));
}

TEST(ResNetStructure, FeatureShapesPerDepthAndWidth) {
  for (int depth : {18, 34, 50, 101}) {
    for (double width : {0.125, 0.25}) {
      if (depth == 101 && width == 0.25) continue;  // keep the test fast
      ParameterBuffer buffer;
      ResNet model(config_of(depth, width), buffer);
      buffer.allocate(Device::cpu);
      Generator generator{7, 0};
      model.initialize(generator);
      const ResNetFeatures& features = model.forward(random_images({2, 3, 64, 48}, 1), false);
      const int64_t expansion = depth >= 50 ? 4 : 1;
      for (int stage = 2; stage <= 5; ++stage) {
        const int64_t channels = resnet_width(int64_t{64} << (stage - 2), width) * expansion;
        EXPECT_EQ(model.channels(stage), channels);
        // Each stride-2 layer (conv1, maxpool, the layers' first blocks) rounds up: 48 -> 24 -> 12 -> 6 -> 3 -> 2.
        auto halved = [stage](int64_t size) {
          for (int i = 0; i < stage; ++i) size = (size + 1) / 2;
          return size;
        };
        EXPECT_EQ(features[stage].shape(), Shape({2, channels, halved(64), halved(48)}))
            << "depth " << depth << " width " << width << " C" << stage;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Frozen stages
// ---------------------------------------------------------------------------------------

TEST(ResNetStructure, TrainableLayersFollowTorchvision) {
  const std::vector<std::string> stage_parameter{"conv1.weight", "layer1.0.conv1.weight", "layer2.1.conv2.weight",
                                                 "layer3.0.downsample.0.weight", "layer4.1.conv1.weight"};
  const std::vector<std::string> stage_norm{"bn1.weight", "layer1.0.bn1.bias", "layer2.1.bn2.weight",
                                            "layer3.0.downsample.1.weight", "layer4.1.bn1.bias"};
  for (Normalization norm : {Normalization::frozen_batch_norm, Normalization::batch_norm, Normalization::group_norm}) {
    for (int trainable_layers = 0; trainable_layers <= 5; ++trainable_layers) {
      ParameterBuffer buffer;
      ResNet model(config_of(18, 0.125, norm, trainable_layers), buffer);
      for (int stage = 0; stage <= 4; ++stage) {
        const bool trains = stage >= 5 - trainable_layers;
        SCOPED_TRACE(concat(normalization_name(norm), " trainable_layers ", trainable_layers, " stage ", stage));
        EXPECT_EQ(buffer.trainable(buffer.index_of(stage_parameter[stage])), trains);
        // A frozen batch norm never trains; the others train with their stage.
        EXPECT_EQ(buffer.trainable(buffer.index_of(stage_norm[stage])),
                  trains && norm != Normalization::frozen_batch_norm);
      }
      for (int i = 0; i < buffer.size(); ++i) {
        if (buffer.name(i).find("running_") != std::string::npos) {
          EXPECT_FALSE(buffer.trainable(i)) << buffer.name(i);
        }
      }
    }
  }
}

TEST(ResNetBehaviour, BackwardGivesGradientsOnlyToTrainableStages) {
  ParameterBuffer buffer;
  ResNet model(config_of(18, 0.125, Normalization::frozen_batch_norm, 3), buffer);
  buffer.allocate(Device::cpu);
  randomize(buffer, 3);
  const ResNetFeatures& features = model.forward(random_images({2, 3, 32, 32}, 4), true);
  ResNetFeatures d;
  d.c2 = Tensor::zeros(features.c2.shape());
  d.c2.fill(1.0f);  // layer1 is frozen: nothing to give this gradient to
  d.c5 = random_images(features.c5.shape(), 5);
  model.backward(d, nullptr);
  EXPECT_EQ(buffer.gradient(buffer.index_of("layer1.0.conv1.weight")).defined(), false);
  for (const char* name : {"layer2.0.conv1.weight", "layer3.1.conv2.weight", "layer4.1.conv2.weight"}) {
    const auto gradient = buffer.gradient(buffer.index_of(name)).to_vector<float>();
    EXPECT_TRUE(std::any_of(gradient.begin(), gradient.end(), [](float g) { return g != 0.0f; })) << name;
  }
  // Nothing trainable and no image gradient wanted: a no-op, not an error.
  ParameterBuffer frozen_buffer;
  ResNet frozen(config_of(18, 0.125, Normalization::frozen_batch_norm, 0), frozen_buffer);
  frozen_buffer.allocate(Device::cpu);
  frozen.forward(random_images({1, 3, 32, 32}, 4), true);
  EXPECT_NO_THROW(frozen.backward(ResNetFeatures{}, nullptr));
}

// ---------------------------------------------------------------------------------------
// Inference against an unfolded, layer-by-layer reference (ResNet-18)
// ---------------------------------------------------------------------------------------

// conv -> norm (batch norm with running statistics, or group norm), no folding.
Tensor reference_conv_norm(const ParameterBuffer& buffer, Normalization norm, const std::string& conv,
                           const std::string& bn, const Tensor& input, int64_t stride) {
  const Tensor weight = buffer.value(conv + ".weight");
  Tensor convolved, normalized, mean, rstd;
  conv2d_forward(input.to_format(MemoryFormat::plain), weight, Tensor(), {stride, weight.size(2) / 2, 1},
                 convolved);
  convolved = convolved.to_format(MemoryFormat::plain);
  if (norm == Normalization::group_norm) {
    const int64_t groups = std::gcd(int64_t{32}, weight.size(0));
    group_norm_forward(convolved, buffer.value(bn + ".weight"), buffer.value(bn + ".bias"), {groups, 1e-5},
                       normalized, mean, rstd);
  } else {
    batch_norm_2d_eval_forward(convolved, buffer.value(bn + ".weight"), buffer.value(bn + ".bias"),
                               buffer.value(bn + ".running_mean"), buffer.value(bn + ".running_var"), {1e-5, 0.1},
                               normalized);
  }
  return normalized;
}

std::vector<Tensor> reference_resnet18(const ParameterBuffer& buffer, Normalization norm, const Tensor& images) {
  Tensor x = reference_conv_norm(buffer, norm, "conv1", "bn1", images, 2), pooled, argmax;
  relu_forward(x, x);
  max_pool2d_forward(x, {3, 2, 1}, pooled, argmax);
  x = pooled;
  std::vector<Tensor> features;
  for (int stage = 1; stage <= 4; ++stage) {
    for (int index = 0; index < 2; ++index) {
      const std::string block = concat("layer", stage, ".", index);
      const int64_t stride = (stage > 1 && index == 0) ? 2 : 1;
      Tensor h = reference_conv_norm(buffer, norm, block + ".conv1", block + ".bn1", x, stride);
      relu_forward(h, h);
      h = reference_conv_norm(buffer, norm, block + ".conv2", block + ".bn2", h, 1);
      const Tensor identity = (stage > 1 && index == 0) ? reference_conv_norm(buffer, norm, block + ".downsample.0",
                                                                               block + ".downsample.1", x, stride)
                                                        : x.to_format(MemoryFormat::plain);
      Tensor sum;
      add_forward(h, identity, sum);
      relu_forward(sum, sum);
      x = sum;
    }
    features.push_back(x);
  }
  return features;
}

class ResNetAgainstReference : public ::testing::TestWithParam<Normalization> {};

TEST_P(ResNetAgainstReference, InferenceMatchesUnfoldedLayers) {
  ParameterBuffer buffer;
  ResNet model(config_of(18, 0.25, GetParam(), 5), buffer);
  buffer.allocate(Device::cpu);
  randomize(buffer, 11);
  const Tensor images = random_images({2, 3, 48, 40}, 12);
  const std::vector<Tensor> expected = reference_resnet18(buffer, GetParam(), images);
  const ResNetFeatures& features = model.forward(images, false);
  for (int stage = 2; stage <= 5; ++stage) {
    const auto reference = expected[static_cast<size_t>(stage - 2)].to_vector<float>();
    double scale = 0.0;
    for (float v : reference) scale = std::max(scale, static_cast<double>(std::abs(v)));
    EXPECT_TRUE(testing::all_close(features[stage].to_format(MemoryFormat::plain).to_vector<float>(),
                                   std::vector<double>(reference.begin(), reference.end()), {0.0, 1e-5 * scale}))
        << "C" << stage;
  }
  // frozen_batch_norm's training forward is the same computation.
  if (GetParam() == Normalization::frozen_batch_norm || GetParam() == Normalization::group_norm) {
    const ResNetFeatures& trained = model.forward(images, true);
    const auto reference = expected[3].to_vector<float>();
    EXPECT_TRUE(testing::all_close(trained.c5.to_format(MemoryFormat::plain).to_vector<float>(),
                                   std::vector<double>(reference.begin(), reference.end()), {1e-5, 1e-5}));
  }
}

INSTANTIATE_TEST_SUITE_P(ResNet, ResNetAgainstReference,
                         ::testing::Values(Normalization::frozen_batch_norm, Normalization::batch_norm,
                                           Normalization::group_norm),
                         [](const auto& test) { return std::string(normalization_name(test.param)); });

// The folded batch-norm weights are recomputed only where they can be stale: after a
// training forward (an optimizer step may have moved a trainable conv) and after a
// write through the buffer's write paths (a load). Both must show in the next
// inference forward.
TEST(ResNetBehaviour, FoldedWeightsFollowTrainingStepsAndLoads) {
  ParameterBuffer buffer;
  ResNet model(config_of(18, 0.25, Normalization::frozen_batch_norm, 3), buffer);
  buffer.allocate(Device::cpu);
  randomize(buffer, 21);
  const Tensor images = random_images({1, 3, 40, 40}, 22);
  auto expect_reference = [&](const char* when) {
    const auto reference = reference_resnet18(buffer, Normalization::frozen_batch_norm, images)[3].to_vector<float>();
    const ResNetFeatures& features = model.forward(images, false);
    double scale = 0.0;
    for (float v : reference) scale = std::max(scale, static_cast<double>(std::abs(v)));
    EXPECT_TRUE(testing::all_close(features.c5.to_format(MemoryFormat::plain).to_vector<float>(),
                                   std::vector<double>(reference.begin(), reference.end()), {0.0, 1e-5 * scale}))
        << when;
  };
  expect_reference("first inference");
  // A training step: forward, then an "optimizer" moves a trainable conv (layer4).
  model.forward(images, true);
  Tensor trainable = buffer.value("layer4.0.conv1.weight");
  std::vector<float> doubled = trainable.to_vector<float>();
  for (float& v : doubled) v *= 2.0f;
  trainable.copy_from(Tensor::from_vector(trainable.shape(), doubled));
  expect_reference("after a training step");
  // A load into a frozen conv (the stem), through the buffer's write accessor and
  // announced to nobody: the buffer's version() tells the model.
  for (auto& [name, value] : buffer.named_values_to_write()) {
    if (name != "conv1.weight") continue;
    std::vector<float> halved = value.to_vector<float>();
    for (float& v : halved) v *= 0.5f;
    value.copy_from(Tensor::from_vector(value.shape(), halved));
  }
  expect_reference("after a load");
}

// ---------------------------------------------------------------------------------------
// Gradients: finite differences through a tiny ResNet-18
// ---------------------------------------------------------------------------------------

class ResNetGradient : public ::testing::TestWithParam<Normalization> {};

TEST_P(ResNetGradient, ImagesAndWeightsMatchFiniteDifferences) {
  ParameterBuffer buffer;
  auto model = std::make_shared<ResNet>(config_of(18, 0.125, GetParam(), 5), buffer);
  buffer.allocate(Device::cpu);
  randomize(buffer, 21);
  // Checked: the images, a conv weight of layer2, and (unfolded norms) a norm weight of layer3.
  std::vector<std::string> checked{"layer2.0.conv1.weight"};
  if (GetParam() != Normalization::frozen_batch_norm) checked.push_back("layer3.0.bn2.weight");

  testing::DifferentiableOp op;
  op.name = concat("resnet18 ", normalization_name(GetParam()));
  op.inputs.push_back(random_images({1, 3, 48, 48}, 24));  // C5 2 x 2: GN groups of 8 values
  for (const std::string& name : checked) op.inputs.push_back(buffer.value(name).clone());
  op.forward = [&buffer, model, checked](const std::vector<Tensor>& inputs, uint64_t) {
    for (size_t i = 0; i < checked.size(); ++i) buffer.value(checked[i]).copy_from(inputs[i + 1]);
    const ResNetFeatures& features = model->forward(inputs[0], true);
    std::vector<Tensor> outputs;
    for (int stage = 2; stage <= 5; ++stage) outputs.push_back(features[stage].to_format(MemoryFormat::plain));
    return outputs;
  };
  op.backward = [&buffer, model, checked](const std::vector<Tensor>& inputs, const std::vector<Tensor>&,
                                          const std::vector<Tensor>& d_outputs, std::vector<Tensor>& d_inputs,
                                          uint64_t) {
    // The checker calls backward after a forward of the same inputs.
    for (size_t i = 0; i < checked.size(); ++i) buffer.value(checked[i]).copy_from(inputs[i + 1]);
    model->forward(inputs[0], true);
    buffer.zero_gradients();
    model->backward(ResNetFeatures{d_outputs[0], d_outputs[1], d_outputs[2], d_outputs[3]}, &d_inputs[0]);
    for (size_t i = 0; i < checked.size(); ++i) {
      add_backward(buffer.gradient(buffer.index_of(checked[i])), &d_inputs[i + 1], nullptr);
    }
  };
  testing::GradientCheckOptions options;
  // A whole network in float32 is a hard case for central differences: its
  // thousands of ReLU and max-pool kinks mean some perturbations straddle one,
  // and a smaller step drowns in float32 rounding. So: step 1e-3, 10 %
  // tolerance, and at most one element in ten may miss (a kink). A wrong
  // backward misses everywhere; the parity tests hold these same gradients to
  // torch's within 1e-4, this is the framework-free cross-check.
  options.step = 1e-3;
  options.threshold = 1e-1;
  options.max_checks_per_input = 8;
  const auto report = testing::check_gradients(op, options);
  EXPECT_GE(report.checked, 16);
  EXPECT_LE(static_cast<int64_t>(report.mismatches.size()) * 10, report.checked) << testing::gradients_match(report);
}

INSTANTIATE_TEST_SUITE_P(ResNet, ResNetGradient,
                         ::testing::Values(Normalization::frozen_batch_norm, Normalization::group_norm),
                         [](const auto& test) { return std::string(normalization_name(test.param)); });

// ---------------------------------------------------------------------------------------
// Steps, memory and errors
// ---------------------------------------------------------------------------------------

TEST(ResNetBehaviour, NoAllocationAfterTheFirstTrainingStep) {
  for (Normalization norm : {Normalization::frozen_batch_norm, Normalization::batch_norm}) {
    ParameterBuffer buffer;
    ResNet model(config_of(50, 0.125, norm, 3), buffer);
    buffer.allocate(Device::cpu);
    randomize(buffer, 31);
    const Tensor images = random_images({2, 3, 32, 32}, 32);
    ResNetFeatures d;
    auto step = [&] {
      const ResNetFeatures& features = model.forward(images, true);
      if (!d.c5.defined()) {
        for (int stage = 2; stage <= 5; ++stage) d[stage] = random_images(features[stage].shape(), 33 + stage);
      }
      buffer.zero_gradients();
      model.backward(d, nullptr);
    };
    step();  // the cache now holds every size class a step uses
    const int64_t before = allocator_for(Device::cpu).stats().raw_allocations;
    step();
    EXPECT_EQ(allocator_for(Device::cpu).stats().raw_allocations, before) << normalization_name(norm);
  }
}

TEST(ResNetErrors, BadConfigurationsNameTheField) {
  ParameterBuffer buffer;
  auto message_of = [&](const ResNetConfig& config) {
    try {
      ResNet model(config, buffer);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message_of(config_of(20, 1.0)).find("ResNetConfig.depth must be 18, 34, 50 or 101, got 20"),
            std::string::npos);
  EXPECT_NE(message_of(config_of(18, -1.0)).find("ResNetConfig.width_multiplier"), std::string::npos);
  EXPECT_NE(message_of(config_of(18, 1.0, Normalization::batch_norm, 6)).find("trainable_layers must be 0..5"),
            std::string::npos);
  EXPECT_EQ(buffer.size(), 0);  // a refused configuration declares nothing

  ParameterBuffer allocated;
  allocated.add("other.weight", {4});
  allocated.allocate(Device::cpu);
  EXPECT_THROW(ResNet(config_of(18, 0.125), allocated), Error);
}

TEST(ResNetErrors, BadInputsAndOrderAreNamed) {
  ParameterBuffer buffer;
  ResNet model(config_of(18, 0.125, Normalization::frozen_batch_norm, 5), buffer);
  EXPECT_THROW(model.forward(random_images({1, 3, 32, 32}, 1), false), Error);  // not allocated
  buffer.allocate(Device::cpu);
  randomize(buffer, 41);
  try {
    model.forward(random_images({1, 4, 32, 32}, 1), false);
    ADD_FAILURE() << "4-channel images accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("images must be (N, 3, H, W)"), std::string::npos) << error.what();
  }
  model.forward(random_images({1, 3, 32, 32}, 1), false);
  EXPECT_THROW(model.backward(ResNetFeatures{}, nullptr), Error);  // inference forward: nothing saved
  const ResNetFeatures& features = model.forward(random_images({1, 3, 32, 32}, 1), true);
  ResNetFeatures d;
  d.c3 = Tensor::zeros({1, 16, 5, 5});
  try {
    model.backward(d, nullptr);
    ADD_FAILURE() << "a wrong d_features.c3 accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("d_features.c3"), std::string::npos) << error.what();
  }
  EXPECT_EQ(features.c3.shape(), Shape({1, 16, 4, 4}));
}

}  // namespace
}  // namespace wise
