// ParameterBuffer: layout (reverse order, frozen after trainable, alignment,
// shard padding) and named views that alias the one buffer.
#include <gtest/gtest.h>

#include "nn/parameter_buffer.h"

namespace wise::testing {
namespace {

ParameterBuffer small_model() {
  ParameterBuffer parameters;
  parameters.add("conv1.weight", {8, 3, 3, 3});  // 216 floats
  parameters.add("bn1.weight", {8});
  parameters.add("layer1.0.conv1.weight", {8, 8, 3, 3});  // 576
  parameters.add("fc.weight", {5, 8});
  parameters.add("fc.bias", {5});
  return parameters;
}

TEST(ParameterBuffer, LaysOutTrainableInReverseThenFrozen) {
  ParameterBuffer parameters = small_model();
  EXPECT_EQ(parameters.set_trainable("conv1.", false), 1);
  EXPECT_EQ(parameters.set_trainable("bn1.", false), 1);
  parameters.allocate(Device::cpu, /*world_size=*/2);

  // Heads first: fc.bias at 0, fc.weight next (aligned to 16 floats), ...
  EXPECT_EQ(parameters.offset(parameters.index_of("fc.bias")), 0);
  EXPECT_EQ(parameters.offset(parameters.index_of("fc.weight")), 16);
  EXPECT_EQ(parameters.offset(parameters.index_of("layer1.0.conv1.weight")), 64);
  // Trainable range: 64 + 576 = 640 floats, padded to 32 floats x world 2 = 64.
  EXPECT_EQ(parameters.trainable_numel(), 640);
  EXPECT_EQ(parameters.trainable_gradients().numel(), 640);
  // Frozen after it, in declaration order.
  EXPECT_EQ(parameters.offset(parameters.index_of("conv1.weight")), 640);
  EXPECT_EQ(parameters.offset(parameters.index_of("bn1.weight")), 640 + 224);
  for (int i = 0; i < parameters.size(); ++i) EXPECT_EQ(parameters.offset(i) % 16, 0) << parameters.name(i);
  EXPECT_FALSE(parameters.gradient(parameters.index_of("conv1.weight")).defined());
  EXPECT_TRUE(parameters.gradient(parameters.index_of("fc.bias")).defined());
}

TEST(ParameterBuffer, ViewsAliasTheOneBuffer) {
  ParameterBuffer parameters = small_model();
  parameters.allocate(Device::cpu);
  Tensor weight = parameters.value("fc.weight");
  weight.fill(2.0f);
  const std::vector<float> all = parameters.all_values().to_vector<float>();
  const int64_t offset = parameters.offset(parameters.index_of("fc.weight"));
  for (int64_t i = 0; i < 40; ++i) EXPECT_EQ(all[offset + i], 2.0f);
  // A gradient written through a view is in the flat gradient range.
  Tensor gradient = parameters.gradient(parameters.index_of("fc.bias"));
  gradient.fill(1.0f);
  EXPECT_EQ(parameters.trainable_gradients().to_vector<float>()[0], 1.0f);
  parameters.zero_gradients();
  EXPECT_EQ(gradient.to_vector<float>(), std::vector<float>(5, 0.0f));
  // Views outlive the ParameterBuffer object safely: they share the buffer.
  Tensor survivor;
  {
    ParameterBuffer temporary = small_model();
    temporary.allocate(Device::cpu);
    temporary.value("fc.bias").fill(3.0f);
    survivor = temporary.value("fc.bias");
  }
  EXPECT_EQ(survivor.to_vector<float>(), std::vector<float>(5, 3.0f));
}

// A model that only infers never asks for its gradients, and holds none: the gradient
// buffer (as large as the trainable weights) comes, zeroed, with the first request.
TEST(ParameterBuffer, GradientsComeWithTheFirstRequest) {
  ParameterBuffer parameters = small_model();
  parameters.allocate(Device::cpu);
  EXPECT_FALSE(parameters.has_gradients());
  parameters.value("fc.bias").fill(1.0f);  // values and their views do not make them
  EXPECT_FALSE(parameters.has_gradients());
  const Tensor gradient = parameters.gradient(parameters.index_of("fc.weight"));
  EXPECT_TRUE(parameters.has_gradients());
  EXPECT_EQ(gradient.to_vector<float>(), std::vector<float>(40, 0.0f));
  // The same buffer after that: the flat range and the views alias.
  Tensor flat = parameters.trainable_gradients();
  flat.fill(4.0f);
  EXPECT_EQ(gradient.to_vector<float>(), std::vector<float>(40, 4.0f));

  ParameterBuffer zeroed = small_model();
  zeroed.allocate(Device::cpu);
  zeroed.zero_gradients();  // makes them too: an optimizer's first step may start here
  EXPECT_TRUE(zeroed.has_gradients());
  EXPECT_EQ(zeroed.trainable_gradients().to_vector<float>(), std::vector<float>(zeroed.trainable_numel(), 0.0f));
}

// The version counts the writes a cache of derived values must notice (loads,
// initialisation), and only those: reading does not move it.
TEST(ParameterBuffer, VersionCountsWritePathsOnly) {
  ParameterBuffer parameters = small_model();
  parameters.allocate(Device::cpu);
  const uint64_t allocated = parameters.version();
  (void)parameters.named_values();
  (void)parameters.value("fc.bias");
  (void)parameters.trainable_values();
  EXPECT_EQ(parameters.version(), allocated);
  (void)parameters.named_values_to_write();
  EXPECT_EQ(parameters.version(), allocated + 1);
  parameters.mark_changed();
  EXPECT_EQ(parameters.version(), allocated + 2);
  // The write views are the same views as the read ones.
  EXPECT_EQ(parameters.named_values_to_write()[0].second.data<float>(), parameters.value(0).data<float>());
}

TEST(ParameterBuffer, NamedErrors) {
  ParameterBuffer parameters = small_model();
  EXPECT_THROW(parameters.add("fc.bias", {5}), Error);
  EXPECT_THROW(parameters.value(0), Error);  // before allocate
  parameters.allocate(Device::cpu);
  try {
    parameters.index_of("fc.weights");
    FAIL();
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("no parameter named \"fc.weights\""), std::string::npos);
  }
}

}  // namespace
}  // namespace wise::testing
