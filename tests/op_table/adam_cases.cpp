// Op-table rows for kernels/adam.h (the Adam/AdamW update), against the double
// reference in tests/reference/adam_reference.h. Trajectory parity with torch
// itself (bit for bit) is in tests/fixtures/adam_parity_test.cpp.
#include <cmath>
#include <limits>

#include "kernels/adam.h"
#include "kernels/cpu/parallel_for.h"
#include "tests/reference/adam_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

namespace k = kernels;
using kernels::Device;

// Sizes around the CPU launcher's serial/parallel threshold and odd sizes.
const int64_t kSizes[] = {1, 7, 1000, k::cpu::kParallelThreshold + 1, 100003};

// Parameters and first moments in [-1, 1], second moments in [0.01, 1], lr 1e-2:
// the update (|lr m / sqrt(v)| <= ~0.3) carries a few float roundings of itself,
// the moments one or two of their own.
const Tolerance kTolerance{1e-6, 1e-6};

struct Variant {
  const char* name;
  double beta1, beta2, eps, weight_decay;
  bool decoupled, amsgrad;
  int64_t step;
  float gradient_scale;  // 1: no scale pointer passed
};

const Variant kVariants[] = {
    {"first_step", 0.9, 0.999, 1e-8, 0.0, false, false, 1, 1.0f},
    {"later_step", 0.9, 0.999, 1e-8, 0.0, false, false, 7, 1.0f},
    {"l2_decay", 0.9, 0.999, 1e-8, 1e-2, false, false, 3, 1.0f},
    {"adamw", 0.9, 0.999, 1e-8, 1e-2, true, false, 3, 1.0f},
    {"amsgrad", 0.8, 0.95, 1e-6, 1e-2, true, true, 5, 1.0f},
    {"scaled_gradient", 0.9, 0.999, 1e-8, 0.0, false, false, 2, 0.375f},
};

// The kernel's host-side floats, from the step number (what nn/adam.cpp computes).
k::AdamStep kernel_step(const Variant& variant, double learning_rate) {
  const double t = static_cast<double>(variant.step);
  k::AdamStep step;
  step.beta1 = static_cast<float>(variant.beta1);
  step.one_minus_beta1 = static_cast<float>(1.0 - variant.beta1);
  step.beta2 = static_cast<float>(variant.beta2);
  step.one_minus_beta2 = static_cast<float>(1.0 - variant.beta2);
  step.eps = static_cast<float>(variant.eps);
  step.negative_step_size = static_cast<float>(-learning_rate / (1.0 - std::pow(variant.beta1, t)));
  step.bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(variant.beta2, t)));
  if (variant.decoupled) {
    step.decoupled_decay_factor = static_cast<float>(1.0 - learning_rate * variant.weight_decay);
  } else {
    step.weight_decay = static_cast<float>(variant.weight_decay);
  }
  step.amsgrad = variant.amsgrad;
  return step;
}

std::vector<OpCase> adam_update_cases() {
  constexpr double kLearningRate = 1e-2;
  std::vector<OpCase> cases;
  for (int64_t n : kSizes) {
    for (const Variant& variant : kVariants) {
      const std::string name = std::string("adam_update_") + variant.name + "_n" + std::to_string(n);
      cases.push_back({name, [n, variant](Device device, uint64_t seed) {
                         const auto value = random_floats(n, seed);
                         const auto gradient = random_floats(n, seed + 1);
                         const auto exp_avg = random_floats(n, seed + 2);
                         const auto exp_avg_sq = random_floats(n, seed + 3, 0.01f, 1.0f);
                         const auto max_exp_avg_sq = random_floats(n, seed + 4, 0.01f, 1.0f);
                         Tensor value_tensor = on_device(value, device);
                         Tensor exp_avg_tensor = on_device(exp_avg, device);
                         Tensor exp_avg_sq_tensor = on_device(exp_avg_sq, device);
                         Tensor max_tensor = on_device(max_exp_avg_sq, device);
                         const Tensor gradient_tensor = on_device(gradient, device);
                         const Tensor scale = on_device(std::vector<float>{variant.gradient_scale}, device);
                         const bool scaled = variant.gradient_scale != 1.0f;
                         k::adam_update(device, value_tensor.data<float>(), gradient_tensor.data<float>(),
                                        exp_avg_tensor.data<float>(), exp_avg_sq_tensor.data<float>(),
                                        variant.amsgrad ? max_tensor.data<float>() : nullptr,
                                        scaled ? scale.data<float>() : nullptr, n,
                                        kernel_step(variant, kLearningRate));

                         reference::AdamReferenceStep expected_step;
                         expected_step.learning_rate = kLearningRate;
                         expected_step.beta1 = variant.beta1;
                         expected_step.beta2 = variant.beta2;
                         expected_step.eps = variant.eps;
                         expected_step.weight_decay = variant.weight_decay;
                         expected_step.decoupled = variant.decoupled;
                         expected_step.amsgrad = variant.amsgrad;
                         expected_step.step = variant.step;
                         expected_step.gradient_scale = variant.gradient_scale;
                         const auto expected =
                             reference::adam_step(value, gradient, exp_avg, exp_avg_sq, max_exp_avg_sq, expected_step);
                         EXPECT_TRUE(all_close(host_floats(value_tensor), expected.value, kTolerance));
                         EXPECT_TRUE(all_close(host_floats(exp_avg_tensor), expected.exp_avg, kTolerance));
                         EXPECT_TRUE(all_close(host_floats(exp_avg_sq_tensor), expected.exp_avg_sq, kTolerance));
                         if (variant.amsgrad) {
                           EXPECT_TRUE(all_close(host_floats(max_tensor), expected.max_exp_avg_sq, kTolerance));
                         } else {  // untouched
                           EXPECT_TRUE(bitwise_equal(host_floats(max_tensor), max_exp_avg_sq));
                         }
                       }});
    }
  }
  cases.push_back({"adam_update_nan_gradient_propagates", [](Device device, uint64_t seed) {
                     // As torch: the NaN reaches the parameter and both moments, and only there.
                     const int64_t n = 100;
                     auto gradient = random_floats(n, seed);
                     gradient[17] = std::numeric_limits<float>::quiet_NaN();
                     Tensor value = on_device(random_floats(n, seed + 1), device);
                     Tensor exp_avg = Tensor::zeros({n}, DType::float32, device);
                     Tensor exp_avg_sq = Tensor::zeros({n}, DType::float32, device);
                     Tensor max_exp_avg_sq = Tensor::zeros({n}, DType::float32, device);
                     k::AdamStep step;
                     step.negative_step_size = -1e-3f;
                     step.bias_correction2_sqrt = std::sqrt(1.0f - 0.999f);
                     step.amsgrad = true;
                     k::adam_update(device, value.data<float>(), on_device(gradient, device).data<float>(),
                                    exp_avg.data<float>(), exp_avg_sq.data<float>(), max_exp_avg_sq.data<float>(),
                                    nullptr, n, step);
                     for (const Tensor* tensor : {&value, &exp_avg, &exp_avg_sq, &max_exp_avg_sq}) {
                       const auto values = host_floats(*tensor);
                       for (int64_t i = 0; i < n; ++i) EXPECT_EQ(std::isnan(values[i]), i == 17) << i;
                     }
                   }});
  return cases;
}

const OpCaseRegistrar register_adam_update(adam_update_cases());

}  // namespace
}  // namespace wise::testing
