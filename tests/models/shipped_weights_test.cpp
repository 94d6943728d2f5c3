// The shipped backbone (weights/shapes_v2_resnet18_w025_os8.safetensors, weights/README.md):
// stored as F16 under the 2 MB bar, metadata naming its source, and it loads into the
// shapes default's PRM (ResNet-18 x0.25 at output stride 8) as every backbone tensor,
// with values in a trained network's range rather than an initialisation's.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "models/prm.h"
#include "nn/parameter_buffer.h"
#include "weights/safetensors_file.h"

namespace wise {
namespace {

const std::string kShipped = std::string(WISE_WEIGHTS_DIR) + "/shapes_v2_resnet18_w025_os8.safetensors";

TEST(ShippedBackbone, IsF16AndSmall) {
  ASSERT_TRUE(std::filesystem::exists(kShipped)) << kShipped;
  EXPECT_LT(std::filesystem::file_size(kShipped), 2u * 1000 * 1000);
  SafetensorsReader reader(kShipped);
  EXPECT_EQ(reader.header().metadata.at("source"), "train_classifier");
  std::set<SafetensorsDType> dtypes;
  for (const SafetensorsEntry& entry : reader.header().entries) dtypes.insert(entry.dtype);
  EXPECT_TRUE(dtypes.count(SafetensorsDType::F16));
  EXPECT_FALSE(dtypes.count(SafetensorsDType::F32));
}

TEST(ShippedBackbone, LoadsIntoTheShapesDefaultPrm) {
  PrmConfig config;
  config.backbone.depth = 18;
  config.backbone.width_multiplier = 0.25;
  config.backbone.norm = Normalization::batch_norm;
  config.backbone.trainable_layers = 5;
  config.backbone.replace_stride_with_dilation = dilation_for_output_stride(8);
  config.num_classes = 6;
  ParameterBuffer buffer;
  PrmClassifier model(config, buffer);
  buffer.allocate(Device::cpu);
  Generator generator{0, 0};
  model.initialize(generator);
  const LoadReport report = model.load_backbone(kShipped);
  EXPECT_TRUE(report.missing.empty());
  size_t backbone_tensors = 0;
  for (const auto& [name, value] : buffer.named_values()) backbone_tensors += name.rfind("classifier.", 0) != 0;
  EXPECT_EQ(report.loaded.size(), backbone_tensors);
  // BN running variances of a trained body, not the initial 1s; all finite.
  const std::vector<float> variance = buffer.value("layer4.1.bn2.running_var").to_vector<float>();
  bool any_not_one = false;
  for (const float value : variance) {
    EXPECT_TRUE(std::isfinite(value) && value > 0.0f) << value;
    any_not_one = any_not_one || value != 1.0f;
  }
  EXPECT_TRUE(any_not_one);
}

}  // namespace
}  // namespace wise
