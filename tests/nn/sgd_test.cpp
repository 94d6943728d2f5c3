// Sgd (nn/sgd.h) and LrSchedule (nn/lr_schedule.h): the settings rules, the ranges,
// a hand-computed step, clipping, state save/load, reproducibility across thread
// counts, and the errors. Parity with torch itself: tests/fixtures/sgd_parity_test.cpp;
// the kernels against double references: tests/op_table/sgd_cases.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "kernels/cpu/parallel_for.h"
#include "nn/lr_schedule.h"
#include "nn/parameter_buffer.h"
#include "nn/sgd.h"
#include "nn/state_dict.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/seeding.h"

namespace wise::testing {
namespace {

// A PRM-like model in declaration order: a pretrained backbone with a frozen stem
// and trainable norm layers, and a new classifier head.
ParameterBuffer model(Device device, int64_t width = 8) {
  ParameterBuffer parameters;
  parameters.add("backbone.conv1.weight", {width, 3, 3, 3}, /*trainable=*/false);
  parameters.add("backbone.layer1.conv.weight", {width, width, 3, 3});
  parameters.add("backbone.layer1.bn.weight", {width});
  parameters.add("backbone.layer1.bn.bias", {width});
  parameters.add("classifier.weight", {5, width, 1, 1});
  parameters.add("classifier.bias", {5});
  parameters.allocate(device);
  // Random values in each parameter; the alignment gaps keep allocate()'s zeros.
  for (int i = 0; i < parameters.size(); ++i) {
    Tensor value = parameters.value(i);
    value.copy_from(Tensor::from_vector(value.shape(), random_floats(value.numel(), 1 + i)));
  }
  return parameters;
}

// Deterministic gradients for step `step`, written through the parameters' views.
void set_gradients(ParameterBuffer& parameters, int step, float scale = 1.0f) {
  parameters.zero_gradients();
  for (int i = 0; i < parameters.size(); ++i) {
    if (!parameters.trainable(i)) continue;
    Tensor gradient = parameters.gradient(i);
    auto values = random_floats(gradient.numel(), seed_from_name(parameters.name(i)) + step);
    for (float& value : values) value *= scale;
    gradient.copy_from(Tensor::from_vector(gradient.shape(), values));
  }
}

SgdOptions prm_options() {
  SgdOptions options;
  options.momentum = 0.9;
  options.weight_decay = 1e-4;
  options.norm_bias_weight_decay = 0.0;
  options.lr_multipliers = {{{"backbone."}, 0.01}};
  options.bias_lr_multiplier = 2.0;
  return options;
}

TEST(SgdSettings, NormOrBiasIsBiasNameOrAtMostOneDimension) {
  EXPECT_TRUE(is_norm_or_bias("fc.bias", {5}));
  EXPECT_TRUE(is_norm_or_bias("layer1.0.bn1.weight", {64}));  // 1-d: a norm's weight
  EXPECT_TRUE(is_norm_or_bias("rpn.head.conv.bias", {256}));
  EXPECT_FALSE(is_norm_or_bias("conv1.weight", {64, 3, 7, 7}));
  EXPECT_FALSE(is_norm_or_bias("fc.weight", {10, 64}));
  EXPECT_FALSE(is_norm_or_bias("bias_predictor.weight", {4, 8}));  // ".bias" is a suffix rule
}

TEST(SgdSettings, RulesResolvePerParameter) {
  SgdOptions options = prm_options();
  options.lr_multipliers.push_back({{"backbone.layer1.", "classifier."}, 7.0});  // second: never wins for backbone
  auto settings = [&](const std::string& name, const Shape& shape) {
    return resolve_parameter_settings(name, shape, options);
  };
  EXPECT_EQ(settings("backbone.layer1.conv.weight", {8, 8, 3, 3}), (ParameterSettings{0.01, 1e-4}));
  EXPECT_EQ(settings("backbone.layer1.bn.weight", {8}), (ParameterSettings{0.01, 0.0}));
  EXPECT_EQ(settings("backbone.layer1.bn.bias", {8}), (ParameterSettings{0.02, 0.0}));
  EXPECT_EQ(settings("classifier.weight", {5, 8, 1, 1}), (ParameterSettings{7.0, 1e-4}));
  EXPECT_EQ(settings("classifier.bias", {5}), (ParameterSettings{14.0, 0.0}));
  // Without norm_bias_weight_decay everything decays.
  options.norm_bias_weight_decay.reset();
  EXPECT_EQ(settings("classifier.bias", {5}).weight_decay, 1e-4);
}

TEST(SgdSettings, NeighboursWithEqualSettingsShareOneRange) {
  const ParameterBuffer parameters = model(Device::cpu);
  // Layout (reverse order): classifier.bias 0, classifier.weight 16, bn.bias 64,
  // bn.weight 80, layer1.conv.weight 96..672; the frozen stem is after the range.
  const Sgd uniform(parameters, SgdOptions{});
  ASSERT_EQ(uniform.ranges().size(), 1u);
  EXPECT_EQ(uniform.ranges()[0].begin, 0);
  EXPECT_EQ(uniform.ranges()[0].end, 96 + 576);
  EXPECT_EQ(uniform.ranges()[0].names.size(), 5u);

  const Sgd prm(parameters, prm_options());
  const std::vector<std::vector<std::string>> expected = {
      {"classifier.bias"},
      {"classifier.weight"},
      {"backbone.layer1.bn.bias"},
      {"backbone.layer1.bn.weight"},
      {"backbone.layer1.conv.weight"}};
  ASSERT_EQ(prm.ranges().size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(prm.ranges()[i].names, expected[i]);

  SgdOptions no_bias_decay;  // only weight decay differs: bias+bn form one run
  no_bias_decay.weight_decay = 1e-4;
  no_bias_decay.norm_bias_weight_decay = 0.0;
  const Sgd grouped(parameters, no_bias_decay);
  ASSERT_EQ(grouped.ranges().size(), 4u);
  EXPECT_EQ(grouped.ranges()[2].names,
            (std::vector<std::string>{"backbone.layer1.bn.bias", "backbone.layer1.bn.weight"}));
  EXPECT_EQ(grouped.ranges()[2].begin, 64);
  EXPECT_EQ(grouped.ranges()[2].end, 80 + 8);
}

// Two steps worked by hand: momentum 0.9, weight decay 0.1, lr 0.5, p = [1, -2],
// g = [0.5, 0.25] both steps.
//   step 1: d_p = g + 0.1 p = [0.6, 0.05]; buf = d_p; p = p - 0.5 buf = [0.7, -2.025]
//   step 2: d_p = [0.57, 0.0475]; buf = 0.9 [0.6, 0.05] + d_p = [1.11, 0.0925];
//           p = [0.7 - 0.555, -2.025 - 0.04625] = [0.145, -2.07125]
TEST(Sgd, TwoStepsByHand) {
  ParameterBuffer parameters;
  parameters.add("w", {2});
  parameters.allocate(Device::cpu);
  parameters.value("w").copy_from(Tensor::from_vector<float>({2}, {1.0f, -2.0f}));
  SgdOptions options;
  options.momentum = 0.9;
  options.weight_decay = 0.1;
  Sgd sgd(parameters, options);
  const std::vector<std::vector<double>> expected = {{0.7, -2.025}, {0.145, -2.07125}};
  for (int step = 0; step < 2; ++step) {
    parameters.gradient(0).copy_from(Tensor::from_vector<float>({2}, {0.5f, 0.25f}));
    EXPECT_FALSE(sgd.step(0.5).has_value());  // no clipping: no norm
    EXPECT_TRUE(all_close(parameters.value("w").to_vector<float>(), expected[step], {1e-6, 1e-7}));
  }
  const Tensor buffer = sgd.named_state()[0].second;
  EXPECT_EQ(buffer.numel(), 32);  // the padded trainable range
  EXPECT_TRUE(all_close(buffer.view(0, {2}).to_vector<float>(), {1.11, 0.0925}, {1e-6, 1e-7}));
  EXPECT_EQ(sgd.steps(), 2);
}

TEST(Sgd, ClippingScalesTheUpdateNotTheGradientBuffer) {
  ParameterBuffer parameters;
  parameters.add("w", {2});
  parameters.allocate(Device::cpu);
  SgdOptions options;
  options.max_norm = 1.0;
  Sgd sgd(parameters, options);
  parameters.gradient(0).copy_from(Tensor::from_vector<float>({2}, {3.0f, -4.0f}));  // norm 5
  const std::optional<float> norm = sgd.step(1.0);
  ASSERT_TRUE(norm.has_value());
  EXPECT_EQ(*norm, 5.0f);
  // p = 0 - 1 * g / (5 + 1e-6)
  EXPECT_TRUE(all_close(parameters.value("w").to_vector<float>(), {-0.6, 0.8}, {1e-6, 0.0}));
  EXPECT_EQ(parameters.gradient(0).to_vector<float>(), (std::vector<float>{3.0f, -4.0f}));
}

TEST(Sgd, FrozenParametersAndAlignmentGapsStayPut) {
  ParameterBuffer parameters = model(Device::cpu);
  const Tensor frozen = parameters.value("backbone.conv1.weight");
  const std::vector<float> frozen_before = frozen.to_vector<float>();
  SgdOptions options = prm_options();
  options.norm_bias_weight_decay.reset();  // bn.bias + bn.weight: one range over a gap
  Sgd sgd(parameters, options);
  for (int step = 0; step < 3; ++step) {
    set_gradients(parameters, step);
    sgd.step(0.1);
  }
  EXPECT_TRUE(bitwise_equal(frozen.to_vector<float>(), frozen_before));
  // Ranges span the gaps between neighbours; zero values with zero gradients stay zero.
  const std::vector<float> all = parameters.trainable_values().to_vector<float>();
  std::vector<bool> is_parameter(all.size(), false);
  for (int i = 0; i < parameters.size(); ++i) {
    if (!parameters.trainable(i)) continue;
    for (int64_t j = 0; j < parameters.value(i).numel(); ++j) is_parameter[parameters.offset(i) + j] = true;
  }
  for (size_t i = 0; i < all.size(); ++i) {
    if (!is_parameter[i]) {
      EXPECT_EQ(all[i], 0.0f) << "gap element " << i;
    }
  }
}

// What a run leaves: the values, the momentum buffer, the norm of each step.
struct Trajectory {
  std::vector<float> values, momentum_buffer;
  std::vector<float> norms;
};

SgdOptions round_trip_options() {
  SgdOptions options = prm_options();
  options.nesterov = true;
  options.max_norm = 2.0;
  return options;
}

TEST(Sgd, SavedStateContinuesBitIdentically) {
  for (Device device : all_devices()) {
    if (!kernels::device_available(device)) continue;
    SCOPED_TRACE(kernels::device_name(device));
    const LrSchedule schedule({0.1, 2, 0.1, {4}, 0.5});
    auto train = [&](ParameterBuffer& parameters, Sgd& sgd, int first, int last, Trajectory& run) {
      for (int step = first; step < last; ++step) {
        set_gradients(parameters, step, step % 2 == 0 ? 1.0f : 0.05f);  // clip, then not
        run.norms.push_back(*sgd.step(schedule.lr_at(sgd.steps())));
      }
    };
    Trajectory uninterrupted, resumed;
    {
      ParameterBuffer parameters = model(device);
      Sgd sgd(parameters, round_trip_options());
      train(parameters, sgd, 0, 6, uninterrupted);
      uninterrupted.values = parameters.all_values().to_vector<float>();
      uninterrupted.momentum_buffer = sgd.named_state()[0].second.to_vector<float>();
    }
    const std::string directory =
        (std::filesystem::path(::testing::TempDir()) / "wise_sgd_state").string();
    std::filesystem::create_directories(directory);
    const std::string weights = directory + "/weights.safetensors";
    const std::string state = directory + "/optimizer.safetensors";
    {
      ParameterBuffer parameters = model(device);
      Sgd sgd(parameters, round_trip_options());
      train(parameters, sgd, 0, 3, resumed);
      write_tensors(weights, parameters.named_values());
      write_tensors(state, sgd.named_state());
    }
    {
      ParameterBuffer parameters = model(device);
      Tensor(parameters.all_values()).zero();  // the weights must come from the file
      Sgd sgd(parameters, round_trip_options());
      load_into(weights, parameters.named_values());
      load_into(state, sgd.named_state());  // the live state tensors are the targets
      EXPECT_EQ(sgd.steps(), 3);
      train(parameters, sgd, 3, 6, resumed);
      resumed.values = parameters.all_values().to_vector<float>();
      resumed.momentum_buffer = sgd.named_state()[0].second.to_vector<float>();
    }
    EXPECT_TRUE(bitwise_equal(resumed.values, uninterrupted.values));
    EXPECT_TRUE(bitwise_equal(resumed.momentum_buffer, uninterrupted.momentum_buffer));
    EXPECT_TRUE(bitwise_equal(resumed.norms, uninterrupted.norms));
    std::filesystem::remove_all(directory);
  }
}

TEST(Sgd, LoadStateChecksEverythingBeforeWriting) {
  ParameterBuffer parameters = model(Device::cpu);
  Sgd sgd(parameters, prm_options());
  set_gradients(parameters, 0);
  sgd.step(0.1);
  const auto state = sgd.named_state();
  const std::vector<float> buffer_before = state[0].second.to_vector<float>();
  const int64_t numel = state[0].second.numel();
  auto expect_error = [&](const std::vector<std::pair<std::string, Tensor>>& bad, const std::string& text) {
    try {
      sgd.load_state(bad);
      ADD_FAILURE() << "no error; expected one mentioning " << text;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(text), std::string::npos) << error.what();
    }
    EXPECT_EQ(sgd.steps(), 1);
    EXPECT_TRUE(bitwise_equal(state[0].second.to_vector<float>(), buffer_before));
  };
  const Tensor zeros = Tensor::zeros({numel});
  const Tensor step = Tensor::from_vector<int64_t>({1}, {5});
  expect_error({{"sgd.step", step}}, "missing \"sgd.momentum_buffer\"");
  expect_error({{"sgd.momentum_buffer", Tensor::zeros({numel - 32})}, {"sgd.step", step}},
               "\"sgd.momentum_buffer\" must be float32[" + std::to_string(numel) + "]");
  expect_error({{"sgd.momentum_buffer", zeros}, {"sgd.step", Tensor::zeros({1})}},
               "\"sgd.step\" must be int64[1]");
  expect_error({{"sgd.momentum_buffer", zeros}, {"sgd.step", step}, {"sgd.velocity", zeros}},
               "unexpected \"sgd.velocity\"");
  expect_error({{"sgd.momentum_buffer", zeros}, {"sgd.step", Tensor::from_vector<int64_t>({1}, {-1})}},
               "must be >= 0, got -1");
  sgd.load_state({{"sgd.momentum_buffer", zeros}, {"sgd.step", step}});
  EXPECT_EQ(sgd.steps(), 5);
  EXPECT_EQ(state[0].second.to_vector<float>(), std::vector<float>(numel, 0.0f));

  Sgd plain(parameters, SgdOptions{});  // momentum 0: no buffer in its state
  ASSERT_EQ(plain.named_state().size(), 1u);
  EXPECT_THROW(plain.load_state({{"sgd.momentum_buffer", zeros}, {"sgd.step", step}}), Error);
}

TEST(Sgd, CpuResultsAreBitwiseIdenticalAtOneAndTwoThreads) {
  const int saved = kernels::cpu::num_threads();
  auto run = [](int threads) {
    kernels::cpu::set_num_threads(threads);
    ParameterBuffer parameters = model(Device::cpu, /*width=*/96);  // ~84k values: parallel
    SgdOptions options = prm_options();
    options.max_norm = 5.0;
    Sgd sgd(parameters, options);
    std::vector<float> result;
    for (int step = 0; step < 3; ++step) {
      set_gradients(parameters, step);
      result.push_back(*sgd.step(0.1));
    }
    for (float value : parameters.all_values().to_vector<float>()) result.push_back(value);
    for (float value : sgd.named_state()[0].second.to_vector<float>()) result.push_back(value);
    return result;
  };
  const std::vector<float> one = run(1), two = run(2);
  kernels::cpu::set_num_threads(saved);
  EXPECT_TRUE(bitwise_equal(one, two));
}

TEST(Sgd, InvalidOptionsAreNamedErrors) {
  const ParameterBuffer parameters = model(Device::cpu);
  auto message = [&](const SgdOptions& options) -> std::string {
    try {
      Sgd sgd(parameters, options);
    } catch (const Error& error) {
      return error.what();
    }
    return "no error";
  };
  SgdOptions options;
  options.nesterov = true;
  EXPECT_NE(message(options).find("nesterov momentum requires momentum > 0"), std::string::npos);
  options.momentum = 0.9;
  options.dampening = 0.1;
  EXPECT_NE(message(options).find("dampening 0.1"), std::string::npos);
  options = SgdOptions{};
  options.weight_decay = -1e-4;
  EXPECT_NE(message(options).find("weight_decay must be a finite number >= 0, got -0.0001"),
            std::string::npos);
  options = SgdOptions{};
  options.lr_multipliers = {{{"bakbone."}, 0.01}};
  EXPECT_NE(message(options).find("prefix \"bakbone.\" matches none"), std::string::npos);
  options.lr_multipliers = {{{"backbone.conv1."}, 0.01}};  // frozen, but a real name
  EXPECT_EQ(message(options), "no error");

  Sgd sgd(parameters, SgdOptions{});
  EXPECT_THROW(sgd.step(-0.1), Error);
  EXPECT_THROW(sgd.step(std::nan("")), Error);
  ParameterBuffer unallocated;
  unallocated.add("w", {2});
  EXPECT_THROW(Sgd(unallocated, SgdOptions{}), Error);
}

// factor = warmup * 0.5^(milestones passed); warm-up 0.25 -> 1 over 4 iterations.
TEST(LrSchedule, WarmupTimesMultiStepByHand) {
  const LrSchedule schedule({/*base_lr=*/0.4, /*warmup_iters=*/4, /*warmup_factor=*/0.25,
                             /*milestones=*/{6, 9, 9}, /*gamma=*/0.5});
  const double expected[] = {0.25, 0.4375, 0.625, 0.8125, 1, 1, 0.5, 0.5, 0.5, 0.125, 0.125};
  for (int64_t i = 0; i < 11; ++i) {
    EXPECT_DOUBLE_EQ(schedule.factor_at(i), expected[i]) << "iteration " << i;
    EXPECT_DOUBLE_EQ(schedule.lr_at(i), 0.4 * expected[i]) << "iteration " << i;
  }
  const LrSchedule constant({0.02, 0, 0.001, {}, 0.1});
  EXPECT_EQ(constant.lr_at(0), 0.02);
  EXPECT_EQ(constant.lr_at(1000000), 0.02);
}

TEST(LrSchedule, InvalidOptionsAreNamedErrors) {
  EXPECT_THROW(LrSchedule({0.02, -1, 0.001, {}, 0.1}), Error);
  EXPECT_THROW(LrSchedule({-0.02, 0, 0.001, {}, 0.1}), Error);
  try {
    LrSchedule({0.02, 0, 0.001, {10, 5}, 0.1});
    ADD_FAILURE() << "decreasing milestones accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("milestones[0] = 10 > milestones[1] = 5"),
              std::string::npos)
        << error.what();
  }
  EXPECT_THROW(LrSchedule({0.02, 0, 0.001, {}, 0.1}).lr_at(-1), Error);
}

}  // namespace
}  // namespace wise::testing
