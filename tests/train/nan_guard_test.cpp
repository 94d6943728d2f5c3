// train/nan_guard.h: finiteness of loss terms and tensors, the gradient norm
// against a naive double loop, and the exact message.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/train/tiny_trainer.h"
#include "train/nan_guard.h"

namespace wise::testing {
namespace {

constexpr float kInf = std::numeric_limits<float>::infinity();

TEST(NanGuard, LossTerms) {
  EXPECT_TRUE(all_finite(LossTerms{}));
  EXPECT_TRUE(all_finite(LossTerms{{"a", 1.0}, {"b", -1e300}}));
  EXPECT_FALSE(all_finite(LossTerms{{"a", 1.0}, {"b", std::nan("")}}));
  EXPECT_FALSE(all_finite(LossTerms{{"a", -std::numeric_limits<double>::infinity()}}));
}

TEST(NanGuard, TensorFiniteness) {
  EXPECT_TRUE(all_finite(Tensor::zeros({0})));
  // 3e38^2 overflows float but not the double sum: still finite.
  EXPECT_TRUE(all_finite(Tensor::from_vector<float>({3}, {3e38f, -3e38f, 1.0f})));
  for (const float bad : {std::nanf(""), kInf, -kInf}) {
    std::vector<float> values(70000, 0.5f);  // several reduction chunks
    values.back() = bad;
    EXPECT_FALSE(all_finite(Tensor::from_vector<float>({70000}, values))) << bad;
  }
  EXPECT_THROW(all_finite(Tensor::zeros({2}, DType::int32)), Error);
  EXPECT_THROW(all_finite(Tensor()), Error);
}

TEST(NanGuard, GradientNormMatchesANaiveDoubleLoop) {
  TinyTrainer trainer;
  EXPECT_EQ(gradient_norm(trainer.parameters), 0.0);  // allocate() zeroes the gradients
  double sum = 0;
  for (int i = 0; i < trainer.parameters.size(); ++i) {
    if (!trainer.parameters.trainable(i)) continue;
    Tensor gradient = trainer.parameters.gradient(i);
    std::vector<float> values(gradient.numel());
    for (size_t j = 0; j < values.size(); ++j) values[j] = 0.01f * static_cast<float>((j * 7 + i) % 13) - 0.05f;
    gradient.copy_from(Tensor::from_vector<float>(gradient.shape(), values));
    for (const float v : values) sum += double(v) * double(v);
  }
  EXPECT_NEAR(gradient_norm(trainer.parameters), std::sqrt(sum), 1e-12 * std::sqrt(sum));
  // A hand-computed case: a 3-4-5 triangle.
  trainer.parameters.zero_gradients();
  Tensor bias = trainer.gradient("fc2.bias");
  bias.copy_from(Tensor::from_vector<float>({4}, {3.0f, 0.0f, -4.0f, 0.0f}));
  EXPECT_EQ(gradient_norm(trainer.parameters), 5.0);
  bias.copy_from(Tensor::from_vector<float>({4}, {3.0f, kInf, -4.0f, 0.0f}));
  EXPECT_TRUE(std::isinf(gradient_norm(trainer.parameters)));
}

TEST(NanGuard, MessageNamesStepTermsNormAndCheckpoint) {
  EXPECT_EQ(non_finite_message(37, {{"loss_classifier", std::nan("")}, {"loss_box_reg", 0.125}}, std::nullopt,
                               "out/checkpoint-00000030.safetensors"),
            "non-finite values in step 37 (iteration 36): loss_classifier = nan, loss_box_reg = 0.125; gradient norm "
            "not computed (the losses already failed). Nothing was saved after this step; the last good checkpoint "
            "is out/checkpoint-00000030.safetensors (resume from it, perhaps with a lower learning rate or gradient "
            "clipping).");
  EXPECT_EQ(non_finite_message(1, {{"loss", 2.5}}, std::numeric_limits<double>::infinity(), ""),
            "non-finite values in step 1 (iteration 0): loss = 2.5; gradient norm inf. Nothing was saved after this "
            "step; no checkpoint was written yet (start again, perhaps with a lower learning rate or gradient "
            "clipping).");
}

TEST(NanGuard, ParametersMessageNamesTheStepsThatCouldHaveCausedIt) {
  EXPECT_EQ(non_finite_parameters_message(60, 50, "out/checkpoint-00000050.safetensors"),
            "non-finite parameters after step 60, found before writing its checkpoint (they went bad in one of steps "
            "51..60, whose losses and gradient norms were all finite: an update overflowed?). Nothing was saved after "
            "step 50; the last good checkpoint is out/checkpoint-00000050.safetensors (resume from it, perhaps with "
            "a lower learning rate or gradient clipping).");
  const std::string first = non_finite_parameters_message(1, 0, "");
  EXPECT_EQ(first.rfind("non-finite parameters after step 1, found before writing its checkpoint (they went bad in "
                        "step 1,",
                        0),
            0u)
      << first;
  EXPECT_NE(first.find("Nothing was saved after step 0; no checkpoint was written yet"), std::string::npos) << first;
}

}  // namespace
}  // namespace wise::testing
