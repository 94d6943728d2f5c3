// The multi-label classifier (models/multilabel_classifier.h): torchvision's
// names and layout, the head (average pool + fc) against a naive double loop,
// finite-difference gradients through the head into the body, nn.Linear's
// initialisation, allocation-free steps, ImageNet body loading and named errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <unistd.h>
#include <vector>

#include "models/multilabel_classifier.h"
#include "nn/activation.h"
#include "nn/allocator.h"
#include "nn/random.h"
#include "nn/state_dict.h"
#include "tests/support/compare.h"
#include "tests/support/gradient_checker.h"

namespace wise {
namespace {

MultilabelClassifierConfig tiny_config(Normalization norm = Normalization::group_norm, int64_t classes = 3) {
  MultilabelClassifierConfig config;
  config.backbone.depth = 18;
  config.backbone.width_multiplier = 0.125;  // 8, 16, 32, 64 channels
  config.backbone.norm = norm;
  config.backbone.trainable_layers = 5;
  config.num_classes = classes;
  return config;
}

Tensor random_tensor(const Shape& shape, uint64_t seed, float low = -1.0f, float high = 1.0f) {
  Tensor tensor = Tensor::empty(shape);
  Generator generator{seed, 0};
  uniform_(tensor, generator, low, high);
  return tensor;
}

// Random weights everywhere (initialize() would give zero-mean fc rows and unit norms).
void randomize(const ParameterBuffer& buffer, uint64_t seed) {
  Generator generator{seed, 0};
  for (auto [name, value] : buffer.named_values()) {
    if (value.rank() == 4) {
      const double bound = std::sqrt(3.0 / static_cast<double>(value.numel() / value.size(0)));
      uniform_(value, generator, static_cast<float>(-bound), static_cast<float>(bound));
    } else if (name.find("running_var") != std::string::npos || name.find("bn") != std::string::npos ||
               name.find("downsample.1.weight") != std::string::npos) {
      uniform_(value, generator, 0.5f, 1.5f);
    } else {
      uniform_(value, generator, -0.3f, 0.3f);
    }
  }
}

TEST(MultilabelClassifierStructure, TorchvisionNamesWithTheFcFirstInTheBuffer) {
  ParameterBuffer classifier_buffer, body_buffer;
  MultilabelClassifier model(tiny_config(Normalization::batch_norm, 6), classifier_buffer);
  ResNet body(tiny_config(Normalization::batch_norm).backbone, body_buffer);
  // The body's names, then fc.weight (K, C) and fc.bias (K), as torchvision's resnet18(num_classes=6).
  ASSERT_EQ(classifier_buffer.size(), body_buffer.size() + 2);
  for (int i = 0; i < body_buffer.size(); ++i) EXPECT_EQ(classifier_buffer.name(i), body_buffer.name(i));
  EXPECT_EQ(classifier_buffer.name(body_buffer.size()), "fc.weight");
  EXPECT_EQ(classifier_buffer.name(body_buffer.size() + 1), "fc.bias");
  EXPECT_EQ(model.feature_channels(), 64);
  classifier_buffer.allocate(Device::cpu);
  EXPECT_EQ(classifier_buffer.value("fc.weight").shape(), Shape({6, 64}));
  EXPECT_EQ(classifier_buffer.value("fc.bias").shape(), Shape({6}));
  // Reverse declaration order: the head's gradients are the first range of the buffer.
  EXPECT_EQ(classifier_buffer.offset(classifier_buffer.index_of("fc.bias")), 0);
  EXPECT_LT(classifier_buffer.offset(classifier_buffer.index_of("fc.weight")),
            classifier_buffer.offset(classifier_buffer.index_of("layer4.1.conv2.weight")));
  EXPECT_TRUE(classifier_buffer.trainable(classifier_buffer.index_of("fc.weight")));
}

TEST(MultilabelClassifierStructure, FcStaysTrainableWhenTheBodyIsFrozen) {
  MultilabelClassifierConfig config = tiny_config(Normalization::frozen_batch_norm);
  config.backbone.trainable_layers = 0;
  ParameterBuffer buffer;
  MultilabelClassifier model(config, buffer, "classifier.");
  EXPECT_TRUE(buffer.trainable(buffer.index_of("classifier.fc.weight")));
  EXPECT_TRUE(buffer.trainable(buffer.index_of("classifier.fc.bias")));
  EXPECT_FALSE(buffer.trainable(buffer.index_of("classifier.layer4.0.conv1.weight")));
}

// logits[n][k] = b_k + sum_c W_kc mean_{h,w} C5[n][c][h][w], in double from the body's C5.
TEST(MultilabelClassifierForward, HeadMatchesANaiveAveragePoolAndLinear) {
  for (Normalization norm : {Normalization::batch_norm, Normalization::group_norm}) {
    ParameterBuffer buffer;
    MultilabelClassifier model(tiny_config(norm, 5), buffer);
    buffer.allocate(Device::cpu);
    randomize(buffer, 3);
    const Tensor images = random_tensor({2, 3, 96, 64}, 4);
    for (bool training : {false, true}) {
      const std::vector<float> logits = model.forward(images, training).to_vector<float>();
      // The body alone, same path (training BN uses the same batch statistics;
      // its running statistics are updated again, which the output does not read).
      const Tensor c5 = model.body().forward(images, training).c5.to_format(MemoryFormat::plain);
      const std::vector<float> features = c5.to_vector<float>(), weight = buffer.value("fc.weight").to_vector<float>(),
                               bias = buffer.value("fc.bias").to_vector<float>();
      const int64_t N = c5.size(0), C = c5.size(1), HW = c5.size(2) * c5.size(3), K = 5;
      ASSERT_EQ(HW, 6);  // 96 x 64 / 32 -> 3 x 2
      std::vector<double> expected;
      for (int64_t n = 0; n < N; ++n) {
        for (int64_t k = 0; k < K; ++k) {
          double sum = bias[k];
          for (int64_t c = 0; c < C; ++c) {
            double mean = 0;
            for (int64_t i = 0; i < HW; ++i) mean += features[(n * C + c) * HW + i];
            sum += weight[k * C + c] * (mean / static_cast<double>(HW));
          }
          expected.push_back(sum);
        }
      }
      EXPECT_TRUE(testing::all_close(logits, expected, {1e-5, 1e-5}))
          << normalization_name(norm) << (training ? " training" : " inference");
      EXPECT_EQ(model.pooled_features().shape(), Shape({N, C}));
    }
  }
}

TEST(MultilabelClassifierGradient, HeadAndBodyMatchFiniteDifferences) {
  for (Normalization norm : {Normalization::frozen_batch_norm, Normalization::group_norm}) {
    ParameterBuffer buffer;
    auto model = std::make_shared<MultilabelClassifier>(tiny_config(norm, 3), buffer);
    buffer.allocate(Device::cpu);
    randomize(buffer, 11);
    const std::vector<std::string> checked{"fc.weight", "fc.bias", "layer4.1.conv2.weight"};

    testing::DifferentiableOp op;
    op.name = concat("multilabel classifier ", normalization_name(norm));
    op.inputs.push_back(random_tensor({2, 3, 64, 64}, 12));  // C5 2 x 2
    for (const std::string& name : checked) op.inputs.push_back(buffer.value(name).clone());
    op.forward = [&buffer, model, checked](const std::vector<Tensor>& inputs, uint64_t) {
      for (size_t i = 0; i < checked.size(); ++i) buffer.value(checked[i]).copy_from(inputs[i + 1]);
      return std::vector<Tensor>{model->forward(inputs[0], true).clone()};
    };
    op.backward = [&buffer, model, checked](const std::vector<Tensor>& inputs, const std::vector<Tensor>&,
                                            const std::vector<Tensor>& d_outputs, std::vector<Tensor>& d_inputs,
                                            uint64_t) {
      for (size_t i = 0; i < checked.size(); ++i) buffer.value(checked[i]).copy_from(inputs[i + 1]);
      model->forward(inputs[0], true);
      buffer.zero_gradients();
      model->backward(d_outputs[0], &d_inputs[0]);
      for (size_t i = 0; i < checked.size(); ++i) {
        add_backward(buffer.gradient(buffer.index_of(checked[i])), &d_inputs[i + 1], nullptr);
      }
    };
    testing::GradientCheckOptions options;
    // As ResNet's own check (tests/models/resnet_test.cpp): a whole float32
    // network has ReLU and max-pool kinks, so a 10 % tolerance and at most one
    // miss in ten; the fc's gradients are linear in the step and always pass.
    options.step = 1e-3;
    options.threshold = 1e-1;
    options.max_checks_per_input = 8;
    const auto report = testing::check_gradients(op, options);
    EXPECT_GE(report.checked, 24) << op.name;
    EXPECT_LE(static_cast<int64_t>(report.mismatches.size()) * 10, report.checked)
        << op.name << testing::gradients_match(report);
    for (const auto& mismatch : report.mismatches) {
      EXPECT_GE(mismatch.input, 0) << op.name;
      EXPECT_NE(mismatch.input, 1) << op.name << ": fc.weight element " << mismatch.index;
      EXPECT_NE(mismatch.input, 2) << op.name << ": fc.bias element " << mismatch.index;
    }
  }
}

TEST(MultilabelClassifierInit, FcFollowsNnLinearsDefault) {
  ParameterBuffer buffer;
  MultilabelClassifier model(tiny_config(Normalization::batch_norm, 6), buffer);
  buffer.allocate(Device::cpu);
  Generator generator{5, 0};
  model.initialize(generator);
  const double bound = 1.0 / std::sqrt(64.0);  // U(-1/sqrt(C), 1/sqrt(C)), C = 64
  for (const char* name : {"fc.weight", "fc.bias"}) {
    const std::vector<float> values = buffer.value(name).to_vector<float>();
    double largest = 0, mean_square = 0;
    for (float value : values) {
      largest = std::max(largest, std::fabs(static_cast<double>(value)));
      mean_square += static_cast<double>(value) * value / static_cast<double>(values.size());
    }
    EXPECT_LE(largest, bound * (1 + 1e-6)) << name;
    EXPECT_GT(largest, bound * 0.5) << name;  // drawn, not left at zero
    if (values.size() > 100) {
      EXPECT_NEAR(mean_square, bound * bound / 3, bound * bound / 10) << name;  // U(-b, b)'s variance b^2 / 3
    }
  }
  EXPECT_EQ(buffer.value("bn1.weight").to_vector<float>(), std::vector<float>(8, 1.0f));  // the body's init
}

TEST(MultilabelClassifierSteps, NoAllocationAfterTheFirstTrainingStep) {
  ParameterBuffer buffer;
  MultilabelClassifier model(tiny_config(Normalization::batch_norm), buffer);
  buffer.allocate(Device::cpu);
  randomize(buffer, 21);
  const Tensor images = random_tensor({2, 3, 64, 64}, 22), d_logits = random_tensor({2, 3}, 23);
  auto step = [&] {
    model.forward(images, true);
    buffer.zero_gradients();
    model.backward(d_logits, nullptr);
  };
  step();
  const int64_t before = allocator_for(Device::cpu).stats().raw_allocations;
  step();
  EXPECT_EQ(allocator_for(Device::cpu).stats().raw_allocations, before);
}

TEST(MultilabelClassifierWeights, ImageNetBodyLoadsByNameAndTheFcIsKept) {
  ParameterBuffer source_buffer, buffer;
  MultilabelClassifier source(tiny_config(Normalization::batch_norm, 4), source_buffer);
  MultilabelClassifier model(tiny_config(Normalization::batch_norm, 6), buffer);
  source_buffer.allocate(Device::cpu);
  buffer.allocate(Device::cpu);
  randomize(source_buffer, 31);
  randomize(buffer, 32);
  // An "ImageNet" file: the body, a 1000-class fc and num_batches_tracked counters.
  NamedTensors file;
  for (const auto& [name, value] : source_buffer.named_values()) {
    if (name.rfind("fc.", 0) != 0) file.emplace_back(name, value);
  }
  file.emplace_back("fc.weight", random_tensor({1000, 64}, 33));
  file.emplace_back("fc.bias", random_tensor({1000}, 34));
  file.emplace_back("bn1.num_batches_tracked", Tensor::from_vector<int64_t>({1}, {7}));
  const std::string path = (std::filesystem::temp_directory_path() /
                            ("wise_classifier_imagenet_" + std::to_string(::getpid()) + ".safetensors")).string();
  struct RemoveAtExit {
    std::string path;
    ~RemoveAtExit() {
      std::error_code error;
      std::filesystem::remove(path, error);
    }
  } remove_at_exit{path};
  write_tensors(path, file);
  const std::vector<float> fc_before = buffer.value("fc.weight").to_vector<float>();
  const LoadReport report = model.load_imagenet_body(path);
  EXPECT_EQ(static_cast<int>(report.loaded.size()), buffer.size() - 2);
  for (const auto& [name, value] : source_buffer.named_values()) {
    if (name.rfind("fc.", 0) == 0) continue;
    EXPECT_TRUE(testing::bitwise_equal(buffer.value(name).to_vector<float>(), value.to_vector<float>())) << name;
  }
  EXPECT_EQ(buffer.value("fc.weight").to_vector<float>(), fc_before);

  // A file without one of the body's tensors names it.
  file.erase(file.begin());
  write_tensors(path, file);
  try {
    model.load_imagenet_body(path);
    ADD_FAILURE() << "a file without conv1.weight loaded";
  } catch (const std::exception& error) {  // weights/'s SafetensorsError
    EXPECT_NE(std::string(error.what()).find("missing 1 tensor(s) the model needs: conv1.weight"), std::string::npos) << error.what();
  }
}

TEST(MultilabelClassifierErrors, BadConfigurationsAndCallsAreNamed) {
  ParameterBuffer buffer;
  try {
    MultilabelClassifier model(tiny_config(Normalization::batch_norm, 0), buffer);
    ADD_FAILURE() << "num_classes 0 accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("num_classes must be >= 1, got 0"), std::string::npos) << error.what();
  }
  EXPECT_EQ(buffer.size(), 0);  // nothing declared

  MultilabelClassifier model(tiny_config(Normalization::group_norm, 3), buffer);
  buffer.allocate(Device::cpu);
  randomize(buffer, 41);
  const Tensor images = random_tensor({2, 3, 32, 32}, 42);
  EXPECT_THROW(model.backward(random_tensor({2, 3}, 43), nullptr), Error);  // no forward yet
  model.forward(images, false);
  EXPECT_THROW(model.backward(random_tensor({2, 3}, 43), nullptr), Error);  // an inference forward
  model.forward(images, true);
  try {
    model.backward(random_tensor({2, 4}, 44), nullptr);
    ADD_FAILURE() << "d_logits of the wrong shape accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("d_logits must be plain [2, 3]"), std::string::npos) << error.what();
  }
}

}  // namespace
}  // namespace wise
