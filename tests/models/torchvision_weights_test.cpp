// Loading torchvision-named safetensors into a ResNet (models/torchvision_weights.h).
//
// The converter's real output for full-size torchvision resnet18() and resnet50()
// checkpoints is described by the fixture tests/fixtures/families/resnet_converter.py
// (every key and shape of the converted file; the files themselves are 45 and
// 100 MB). These tests write a file with exactly those keys and shapes and load it.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <set>
#include <string>

#include "models/resnet.h"
#include "models/torchvision_weights.h"
#include "nn/state_dict.h"
#include "tests/support/errors.h"
#include "tests/support/fixtures.h"

namespace wise {
namespace {

std::string temporary_path(const std::string& name) { return ::testing::TempDir() + "/wise_tv_" + name; }

// key -> shape of the converted checkpoint of `arch`, from the converter fixture.
std::map<std::string, Shape> converted_keys(const std::string& arch) {
  const auto fixture = testing::load_fixture("resnet_converter");
  std::map<std::string, Shape> keys;
  for (const auto& [name, value] : read_tensors(fixture.path())) {
    if (name.rfind(arch + ".", 0) != 0) continue;
    const std::vector<int64_t> dims = value.to_vector<int64_t>();
    keys[name.substr(arch.size() + 1)] = Shape(dims);
  }
  return keys;
}

// A file with the converter's keys and shapes; each float tensor filled with its
// index in the file (so the test can tell that every value went to the right place).
std::string write_converted_like(const std::string& arch, const std::map<std::string, Shape>& keys) {
  NamedTensors tensors;
  float index = 0.0f;
  for (const auto& [key, shape] : keys) {
    if (is_ignored_torchvision_key(key) && key.find("num_batches_tracked") != std::string::npos) {
      tensors.emplace_back(key, Tensor::zeros(shape, DType::int64));
      continue;
    }
    Tensor value = Tensor::empty(shape);
    value.fill(index++);
    tensors.emplace_back(key, value);
  }
  const std::string path = temporary_path(arch + ".safetensors");
  write_tensors(path, tensors, {{"source", arch + ".pth"}, {"arch", arch}});
  return path;
}

TEST(TorchvisionWeights, ConvertedCheckpointsLoadWithNoMissingOrUnexpectedKey) {
  for (const auto& [arch, depth] : {std::pair<std::string, int>{"resnet18", 18}, {"resnet50", 50}}) {
    SCOPED_TRACE(arch);
    const auto keys = converted_keys(arch);
    ASSERT_EQ(keys.size(), depth == 18 ? 122u : 320u);  // torchvision's state_dict() sizes

    ResNetConfig config;
    config.depth = depth;
    config.trainable_layers = 0;  // no gradient memory: this test only loads
    ParameterBuffer buffer;
    buffer.add("rpn.head.conv.0.0.weight", {4, 4, 3, 3});  // another network's parameter
    ResNet model(config, buffer, "backbone.body.");
    buffer.allocate(Device::cpu);
    buffer.value("rpn.head.conv.0.0.weight").fill(-7.0f);

    // Every key the converter writes is either a parameter (same shape) or ignored.
    std::set<std::string> expected;
    for (const auto& [key, shape] : keys) {
      if (is_ignored_torchvision_key(key)) continue;
      expected.insert(key);
      EXPECT_EQ(buffer.value("backbone.body." + key).shape(), shape) << key;
    }
    EXPECT_EQ(expected.size(), static_cast<size_t>(buffer.size() - 1));

    const std::string path = write_converted_like(arch, keys);
    const LoadReport report = load_torchvision_weights(path, buffer, "backbone.body.");
    std::remove(path.c_str());
    EXPECT_TRUE(report.missing.empty());
    EXPECT_EQ(report.loaded.size(), expected.size());
    // Ignored: fc.weight, fc.bias and one num_batches_tracked per batch norm.
    EXPECT_EQ(report.unexpected.size(), keys.size() - expected.size());
    for (const std::string& name : report.unexpected) EXPECT_TRUE(is_ignored_torchvision_key(name)) << name;
    EXPECT_EQ(report.metadata.at("arch"), arch);

    // Values landed by name: key number i (in sorted order, fc.* and counters skipped) holds i.
    float index = 0.0f;
    for (const auto& [key, shape] : keys) {
      if (key.find("num_batches_tracked") != std::string::npos) continue;
      if (!is_ignored_torchvision_key(key)) {
        EXPECT_EQ(buffer.value("backbone.body." + key).to_vector<float>().back(), index) << key;
      }
      ++index;
    }
    EXPECT_EQ(buffer.value("rpn.head.conv.0.0.weight").to_vector<float>()[0], -7.0f);  // untouched
  }
}

// A small ResNet-18 and a file written from its own parameters, edited per case.
struct SmallModel {
  explicit SmallModel(Normalization norm = Normalization::frozen_batch_norm) {
    ResNetConfig config;
    config.depth = 18;
    config.width_multiplier = 0.125;
    config.norm = norm;
    model = std::make_unique<ResNet>(config, buffer);
    buffer.allocate(Device::cpu);
  }
  ParameterBuffer buffer;
  std::unique_ptr<ResNet> model;
};

std::string load_error(const std::string& path, ParameterBuffer& buffer) {
  return testing::error_of<std::exception>([&] { load_torchvision_weights(path, buffer); });
}

TEST(TorchvisionWeights, MissingAndUnexpectedKeysAreNamed) {
  SmallModel small;
  NamedTensors tensors;
  for (const auto& [name, value] : small.buffer.named_values()) {
    if (name != "layer1.0.bn1.running_var") tensors.emplace_back(name, value);
  }
  tensors.emplace_back("layer5.0.conv1.weight", Tensor::zeros({8, 8, 3, 3}));
  tensors.emplace_back("fc.weight", Tensor::zeros({1000, 64}));  // ignored, never an error
  const std::string path = temporary_path("mismatch.safetensors");
  write_tensors(path, tensors);

  std::string message = load_error(path, small.buffer);
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("layer1.0.bn1.running_var"), std::string::npos) << message;

  // With the missing key back, the unexpected one is named.
  tensors.emplace_back("layer1.0.bn1.running_var", small.buffer.value("layer1.0.bn1.running_var"));
  write_tensors(path, tensors);
  message = load_error(path, small.buffer);
  EXPECT_NE(message.find("layer5.0.conv1.weight"), std::string::npos) << message;
  EXPECT_EQ(message.find("fc.weight"), std::string::npos) << message;
  std::remove(path.c_str());
}

TEST(TorchvisionWeights, ShapeMismatchAndWrongNormalizationAreNamed) {
  SmallModel small;
  NamedTensors tensors;
  for (const auto& [name, value] : small.buffer.named_values()) {
    tensors.emplace_back(name, name == "conv1.weight" ? Tensor::zeros({64, 3, 7, 7}) : value);
  }
  const std::string path = temporary_path("shape.safetensors");
  write_tensors(path, tensors);
  const std::string message = load_error(path, small.buffer);
  EXPECT_NE(message.find("conv1.weight"), std::string::npos) << message;
  EXPECT_NE(message.find("shape mismatch"), std::string::npos) << message;
  std::remove(path.c_str());

  // BatchNorm weights into a GroupNorm ResNet: the statistics have no place.
  SmallModel batch_norm, group_norm(Normalization::group_norm);
  const std::string bn_path = temporary_path("batch_norm.safetensors");
  write_tensors(bn_path, batch_norm.buffer.named_values());
  const std::string gn_message = load_error(bn_path, group_norm.buffer);
  EXPECT_NE(gn_message.find("bn1.running_mean"), std::string::npos) << gn_message;
  EXPECT_NE(load_torchvision_weights(bn_path, batch_norm.buffer).loaded.size(), 0u);
  std::remove(bn_path.c_str());
}

}  // namespace
}  // namespace wise
