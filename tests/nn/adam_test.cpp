// Adam/AdamW beyond torch parity (tests/fixtures/adam_parity_test.cpp): option and
// state errors named, state round trips, 1 and 2 threads bitwise equal.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/cpu/parallel_for.h"
#include "nn/adam.h"
#include "nn/random.h"
#include "tests/support/compare.h"
#include "tests/support/errors.h"

namespace wise::testing {
namespace {

ParameterBuffer model() {
  ParameterBuffer parameters;
  parameters.add("backbone.conv1.weight", {8, 3, 3, 3}, /*trainable=*/false);
  parameters.add("backbone.layer1.weight", {64, 64, 3, 3});  // 36,864 values: parallel
  parameters.add("head.bias", {5});
  parameters.allocate(Device::cpu);
  Generator generator{3, 0};
  for (int i = 0; i < parameters.size(); ++i) {
    Tensor value = parameters.value(i);
    uniform_(value, generator, -1.0f, 1.0f);
  }
  return parameters;
}

void random_gradients(ParameterBuffer& parameters, uint64_t seed) {
  Generator generator{seed, 0};
  Tensor gradients = parameters.trainable_gradients();
  uniform_(gradients, generator, -1.0f, 1.0f);
}

TEST(Adam, InvalidOptionsAreNamedErrors) {
  const ParameterBuffer parameters = model();
  auto message = [&](const AdamOptions& options) {
    return error_of([&] { Adam adam(parameters, options); });
  };
  AdamOptions options;
  options.beta1 = 1.0;
  EXPECT_NE(message(options).find("Adam: beta1 must be in [0, 1), got 1"), std::string::npos) << message(options);
  options = adamw_options();
  options.beta2 = -0.1;
  EXPECT_NE(message(options).find("AdamW: beta2 must be in [0, 1), got -0.1"), std::string::npos);
  options = AdamOptions{};
  options.eps = std::nan("");
  EXPECT_NE(message(options).find("Adam: eps must be a finite number >= 0"), std::string::npos);
  options = AdamOptions{};
  options.lr_multipliers = {{{"bakbone."}, 0.1}};
  EXPECT_NE(message(options).find("Adam: lr multiplier prefix \"bakbone.\" matches none"), std::string::npos);

  Adam adam(parameters, AdamOptions{});
  EXPECT_NE(error_of([&] { adam.step(-1e-3); }).find("Adam: learning_rate must be a finite number >= 0"),
            std::string::npos);
}

TEST(Adam, StateRoundTripsAndContinuesBitIdentically) {
  ParameterBuffer first = model(), second = model();
  AdamOptions options = adamw_options();
  options.amsgrad = true;
  Adam a(first, options), b(second, options);
  for (uint64_t step = 0; step < 3; ++step) {
    random_gradients(first, 10 + step);
    a.step(1e-3);
  }
  // The second model takes the first's weights and optimizer state, then both go on.
  Tensor second_values = second.all_values();
  second_values.copy_from(first.all_values());
  b.load_state(a.named_state());
  EXPECT_EQ(b.steps(), 3);
  for (uint64_t step = 3; step < 5; ++step) {
    random_gradients(first, 10 + step);
    random_gradients(second, 10 + step);
    a.step(1e-3);
    b.step(1e-3);
  }
  EXPECT_TRUE(bitwise_equal(first.all_values().to_vector<float>(), second.all_values().to_vector<float>()));
}

TEST(Adam, BadStateIsNamedAndLeavesTheOptimizerUnchanged) {
  ParameterBuffer parameters = model();
  Adam adam(parameters, AdamOptions{});
  random_gradients(parameters, 1);
  adam.step(1e-3);
  auto state = adam.named_state();
  const std::vector<float> before = state[0].second.to_vector<float>();

  auto missing = state;
  missing.erase(missing.begin());
  EXPECT_NE(error_of([&] { adam.load_state(missing); }).find("Adam state: missing \"adam.exp_avg\""),
            std::string::npos);
  auto wrong_shape = state;
  wrong_shape[1].second = Tensor::zeros({7}, DType::float32, Device::cpu);
  EXPECT_NE(error_of([&] { adam.load_state(wrong_shape); }).find("the trainable range changed"), std::string::npos);
  auto extra = state;
  extra.emplace_back("adam.max_exp_avg_sq", state[0].second);
  EXPECT_NE(error_of([&] { adam.load_state(extra); }).find("this optimizer has amsgrad off"), std::string::npos);
  EXPECT_TRUE(bitwise_equal(adam.named_state()[0].second.to_vector<float>(), before));
  EXPECT_EQ(adam.steps(), 1);
}

// Elementwise, so the thread count cannot change a bit.
TEST(Adam, OneAndTwoThreadsGiveTheSameBits) {
  const int saved = kernels::cpu::num_threads();
  auto run = [&](int threads) {
    kernels::cpu::set_num_threads(threads);
    ParameterBuffer parameters = model();
    Adam adam(parameters, adamw_options());
    for (uint64_t step = 0; step < 3; ++step) {
      random_gradients(parameters, 20 + step);
      adam.step(1e-2);
    }
    return parameters.all_values().to_vector<float>();
  };
  const std::vector<float> one = run(1), two = run(2);
  kernels::cpu::set_num_threads(saved);
  EXPECT_TRUE(bitwise_equal(one, two));
}

}  // namespace
}  // namespace wise::testing
