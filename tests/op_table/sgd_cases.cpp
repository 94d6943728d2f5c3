// Op-table rows for kernels/sgd.h (the SGD update, the clipping coefficient) and
// kernels/norms.h (sum of squares), against the double references in
// tests/reference/sgd_reference.h. Trajectory parity with torch itself is in
// tests/fixtures/sgd_parity_test.cpp.
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels/cpu/parallel_for.h"
#include "kernels/norms.h"
#include "kernels/sgd.h"
#include "tests/reference/sgd_reference.h"
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

// Inputs in [-1, 1], lr 0.1: the update's few float roundings (each <= 2^-24 of an
// intermediate of magnitude <= ~3) stay well inside rtol 2.5e-7 + atol 3e-7.
const Tolerance kUpdateTolerance{2.5e-7, 3e-7};

struct UpdateVariant {
  const char* name;
  float momentum, dampening, weight_decay;
  bool nesterov, first_step;
  float gradient_scale;  // 1: no scale pointer passed
};

const UpdateVariant kVariants[] = {
    {"plain", 0.0f, 0.0f, 0.0f, false, false, 1.0f},
    {"weight_decay", 0.0f, 0.0f, 1e-2f, false, false, 1.0f},
    {"momentum_first_step", 0.9f, 0.0f, 1e-2f, false, true, 1.0f},
    {"momentum", 0.9f, 0.0f, 1e-2f, false, false, 1.0f},
    {"nesterov", 0.9f, 0.0f, 1e-2f, true, false, 1.0f},
    {"dampening", 0.9f, 0.25f, 1e-2f, false, false, 1.0f},
    {"scaled_gradient", 0.9f, 0.0f, 1e-2f, false, false, 0.375f},
};

std::vector<OpCase> sgd_update_cases() {
  std::vector<OpCase> cases;
  for (int64_t n : kSizes) {
    for (const UpdateVariant& variant : kVariants) {
      const std::string name = std::string("sgd_update_") + variant.name + "_n" + std::to_string(n);
      cases.push_back({name, [n, variant](Device device, uint64_t seed) {
                         const auto value = random_floats(n, seed);
                         const auto gradient = random_floats(n, seed + 1);
                         const auto buffer = random_floats(n, seed + 2);
                         k::SgdStep step;
                         step.learning_rate = 0.1f;
                         step.momentum = variant.momentum;
                         step.one_minus_dampening = 1.0f - variant.dampening;  // exact here
                         step.weight_decay = variant.weight_decay;
                         step.nesterov = variant.nesterov;
                         step.first_step = variant.first_step;
                         Tensor value_tensor = on_device(value, device);
                         Tensor buffer_tensor = on_device(buffer, device);
                         const Tensor gradient_tensor = on_device(gradient, device);
                         const Tensor scale = on_device(std::vector<float>{variant.gradient_scale}, device);
                         const bool scaled = variant.gradient_scale != 1.0f;
                         const bool has_momentum = variant.momentum != 0.0f;
                         k::sgd_update(device, value_tensor.data<float>(), gradient_tensor.data<float>(),
                                       has_momentum ? buffer_tensor.data<float>() : nullptr,
                                       scaled ? scale.data<float>() : nullptr, n, step);

                         // The reference gets the very floats the kernel got.
                         reference::SgdReferenceStep expected_step;
                         expected_step.learning_rate = step.learning_rate;
                         expected_step.momentum = variant.momentum;
                         expected_step.dampening = variant.dampening;
                         expected_step.weight_decay = variant.weight_decay;
                         expected_step.nesterov = variant.nesterov;
                         expected_step.first_step = variant.first_step;
                         expected_step.gradient_scale = variant.gradient_scale;
                         const auto expected = reference::sgd_step(value, gradient, buffer, expected_step);
                         EXPECT_TRUE(all_close(host_floats(value_tensor), expected.value, kUpdateTolerance));
                         if (has_momentum) {
                           EXPECT_TRUE(all_close(host_floats(buffer_tensor), expected.momentum_buffer,
                                                 kUpdateTolerance));
                         } else {  // untouched
                           EXPECT_TRUE(bitwise_equal(host_floats(buffer_tensor), buffer));
                         }
                       }});
    }
  }
  cases.push_back({"sgd_update_nan_gradient_propagates", [](Device device, uint64_t seed) {
                     // Not the optimizer's business to stop (the trainer's guard is), but
                     // it must not hide it either: as torch, the NaN reaches the parameter.
                     const int64_t n = 100;
                     auto gradient = random_floats(n, seed);
                     gradient[17] = std::numeric_limits<float>::quiet_NaN();
                     Tensor value = on_device(random_floats(n, seed + 1), device);
                     Tensor buffer = Tensor::zeros({n}, DType::float32, device);
                     k::SgdStep step;
                     step.learning_rate = 0.1f;
                     step.momentum = 0.9f;
                     step.first_step = true;
                     k::sgd_update(device, value.data<float>(), on_device(gradient, device).data<float>(),
                                   buffer.data<float>(), nullptr, n, step);
                     const auto values = host_floats(value);
                     for (int64_t i = 0; i < n; ++i) EXPECT_EQ(std::isnan(values[i]), i == 17) << i;
                   }});
  return cases;
}

// A double in device memory, read back (tensors hold no float64: two floats' room).
double read_double(const Tensor& holder) {
  const std::vector<float> words = host_floats(holder);
  double value;
  std::memcpy(&value, words.data(), sizeof value);
  return value;
}

// Sizes around the chunk (4096) and the CPU threshold, and empty.
const int64_t kNormSizes[] = {0, 1, 4095, 4096, 4097, 3 * 4096 + 5, 1000003};

std::vector<OpCase> sum_of_squares_cases() {
  std::vector<OpCase> cases;
  for (int64_t n : kNormSizes) {
    cases.push_back({"sum_of_squares_n" + std::to_string(n), [n](Device device, uint64_t seed) {
                       const auto x = random_floats(n, seed, -3.0f, 2.0f);
                       Tensor workspace = Tensor::empty(
                           {2 * k::sum_of_squares_workspace_size(n)}, DType::float32, device);
                       Tensor out = Tensor::empty({2}, DType::float32, device);
                       const Tensor input = on_device(x, device);
                       k::sum_of_squares(device, n > 0 ? input.data<float>() : nullptr, n,
                                         static_cast<double*>(workspace.raw_data()),
                                         static_cast<double*>(out.raw_data()));
                       // Exact squares of positive terms, added in double in two orders:
                       // each sum is within (n - 1) u of the true one (u = 2^-53; Higham 4.2).
                       const double expected = reference::sum_of_squares(x);
                       const double bound = 2.0 * static_cast<double>(n) * 0x1p-53 * expected;
                       EXPECT_NEAR(read_double(out), expected, bound);
                     }});
  }
  cases.push_back({"sum_of_squares_propagates_nan", [](Device device, uint64_t seed) {
                     auto x = random_floats(10000, seed);
                     x[6000] = std::numeric_limits<float>::quiet_NaN();
                     Tensor workspace = Tensor::empty({2 * k::sum_of_squares_workspace_size(10000)},
                                                      DType::float32, device);
                     Tensor out = Tensor::empty({2}, DType::float32, device);
                     k::sum_of_squares(device, on_device(x, device).data<float>(), 10000,
                                       static_cast<double*>(workspace.raw_data()),
                                       static_cast<double*>(out.raw_data()));
                     EXPECT_TRUE(std::isnan(read_double(out)));
                   }});
  return cases;
}

struct ClipRow {
  const char* name;
  double sum_of_squares;
  float max_norm;
};

std::vector<OpCase> clip_coefficient_cases() {
  const double inf = std::numeric_limits<double>::infinity();
  const ClipRow rows[] = {
      {"zero_norm", 0.0, 1.0f},          // 1 / 1e-6 x max_norm, clamped to 1
      {"clips", 17.3, 1.5f},             // norm ~4.16: coefficient ~0.36
      {"below_max_norm", 17.3, 5.0f},    // coefficient > 1: clamped to 1
      {"infinite_norm", inf, 1.0f},      // 1 / inf = 0: every gradient zeroed (torch too)
      {"nan_norm", std::nan(""), 1.0f},  // NaN stays NaN
  };
  std::vector<OpCase> cases;
  for (const ClipRow& row : rows) {
    cases.push_back({std::string("clip_grad_norm_coefficient_") + row.name, [row](Device device, uint64_t) {
                       std::vector<float> words(2);  // the double's bytes
                       std::memcpy(words.data(), &row.sum_of_squares, sizeof(double));
                       const Tensor sum = on_device(words, device);
                       Tensor out = Tensor::empty({2}, DType::float32, device);
                       k::clip_grad_norm_coefficient(device, static_cast<const double*>(sum.raw_data()),
                                                     row.max_norm, out.data<float>(), out.data<float>() + 1);
                       const auto expected = reference::clip_grad_norm(row.sum_of_squares, row.max_norm);
                       const auto result = host_floats(out);
                       // The norm is rounded once; the coefficient adds a float add, divide, multiply.
                       EXPECT_TRUE(all_close({result[0]}, {expected.total_norm}, {1.2e-7, 0.0}));
                       EXPECT_TRUE(all_close({result[1]}, {expected.coefficient}, {5e-7, 0.0}));
                     }});
  }
  return cases;
}

const OpCaseRegistrar register_sgd_update(sgd_update_cases());
const OpCaseRegistrar register_sum_of_squares(sum_of_squares_cases());
const OpCaseRegistrar register_clip_coefficient(clip_coefficient_cases());

}  // namespace
}  // namespace wise::testing
