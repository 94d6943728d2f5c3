// Op-table rows for the losses (nn/losses.h): loss and input gradient against the
// double-precision references in tests/reference/loss_reference.h, per device.
//
// Every row runs forward, then backward with d_loss = 0.75 into a gradient buffer
// pre-filled with random values (the += rule). Tolerances, and why:
//   loss: each term carries a few float roundings (exp, log1p, products: ~3 ulp of
//     the term, plus ~1 ulp of 1 for the log of the softmax sum); the terms are summed
//     in double and rounded once. All terms are >= 0, so rtol 1e-6 of the total plus
//     atol 1e-6 (the per-row absolute part, averaged) bounds it with room to spare.
//   gradient: a few ulps of the gradient term, whose size is at most
//     d_loss * max|w| / divisor (`scale`), plus one rounding of prior + term:
//     rtol 1e-5 and atol 1e-7 + 1e-6 * scale.
#include <cmath>
#include <limits>
#include <random>
#include <string>

#include "nn/losses.h"
#include "tests/reference/loss_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using kernels::Device;

constexpr float kDLoss = 0.75f;
constexpr Tolerance kLossTolerance{1e-6, 1e-6};

Tolerance gradient_tolerance(double scale) { return {1e-5, 1e-7 + 1e-6 * scale}; }

const char* reduction_name(Reduction reduction) {
  return reduction == Reduction::mean ? "mean" : "sum";
}

std::string shape_name(int64_t rows, int64_t columns) {
  return std::to_string(rows) + "x" + std::to_string(columns);
}

Tensor scalar_on(float value, Device device) { return on_device(std::vector<float>{value}, device); }

// Sets every 17th element to +-80: far out in the tails, where an unstable formula
// overflows exp or loses the sigmoid.
void add_large_logits(std::vector<float>& logits) {
  for (size_t i = 3; i < logits.size(); i += 17) logits[i] = (i / 17) % 2 == 0 ? 80.0f : -80.0f;
}

// Class indices in [0, C), every 5th row replaced by ignore_index.
std::vector<int64_t> class_targets(int64_t N, int64_t C, int64_t ignore_index, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<int64_t> targets(static_cast<size_t>(N));
  for (int64_t n = 0; n < N; ++n) {
    targets[n] = n % 5 == 4 ? ignore_index : static_cast<int64_t>(engine() % static_cast<uint64_t>(C));
  }
  return targets;
}

// 0/1 labels (hard) or values in [0, 1] (soft targets, which torch accepts too).
std::vector<float> binary_targets(int64_t n, uint64_t seed, bool hard) {
  std::vector<float> targets = random_floats(n, seed, 0.0f, 1.0f);
  if (hard) {
    for (float& t : targets) t = t < 0.5f ? 0.0f : 1.0f;
  }
  return targets;
}

// ---------------------------------------------------------------------------------------

void run_cross_entropy(Device device, uint64_t seed, int64_t N, int64_t C, int64_t ignore_index,
                       Reduction reduction, bool large) {
  std::vector<float> logits = random_floats(N * C, seed, -4.0f, 4.0f);
  if (large) add_large_logits(logits);
  const std::vector<int64_t> targets = class_targets(N, C, ignore_index, seed + 1);
  const std::vector<float> prior = random_floats(N * C, seed + 2);
  const SoftmaxCrossEntropyOptions options{reduction, ignore_index};
  const Tensor logits_tensor = on_device(logits, Shape{N, C}, device);
  const Tensor targets_tensor = on_device(targets, Shape{N}, device);
  Tensor loss, d_logits = on_device(prior, Shape{N, C}, device);
  softmax_cross_entropy_forward(logits_tensor, targets_tensor, options, loss);
  softmax_cross_entropy_backward(scalar_on(kDLoss, device), logits_tensor, targets_tensor, options,
                                 d_logits);

  const bool mean = reduction == Reduction::mean;
  const reference::LossResult expected =
      reference::softmax_cross_entropy(logits, targets, N, C, ignore_index, mean, kDLoss, prior);
  int64_t valid = 0;
  for (int64_t t : targets) valid += t != ignore_index ? 1 : 0;
  EXPECT_TRUE(all_close(host_floats(loss), {expected.loss}, kLossTolerance));
  const double scale = mean && valid > 0 ? kDLoss / static_cast<double>(valid) : kDLoss;
  EXPECT_TRUE(all_close(host_floats(d_logits), expected.d_input, gradient_tolerance(scale)));
}

void run_binary_cross_entropy(Device device, uint64_t seed, int64_t n, bool weighted,
                              Reduction reduction, bool hard_targets) {
  std::vector<float> logits = random_floats(n, seed, -6.0f, 6.0f);
  add_large_logits(logits);
  const std::vector<float> targets = binary_targets(n, seed + 1, hard_targets);
  const std::vector<float> weight = weighted ? random_floats(n, seed + 2, 0.5f, 2.0f) : std::vector<float>{};
  const std::vector<float> prior = random_floats(n, seed + 3);
  const BinaryCrossEntropyWithLogitsOptions options{reduction};
  const Tensor logits_tensor = on_device(logits, device), targets_tensor = on_device(targets, device);
  const Tensor weight_tensor = weighted ? on_device(weight, device) : Tensor();
  Tensor loss, d_logits = on_device(prior, device);
  binary_cross_entropy_with_logits_forward(logits_tensor, targets_tensor, weight_tensor, options, loss);
  binary_cross_entropy_with_logits_backward(scalar_on(kDLoss, device), logits_tensor, targets_tensor,
                                            weight_tensor, options, d_logits);

  const bool mean = reduction == Reduction::mean;
  const reference::LossResult expected =
      reference::binary_cross_entropy_with_logits(logits, targets, weight, mean, kDLoss, prior);
  EXPECT_TRUE(all_close(host_floats(loss), {expected.loss}, kLossTolerance));
  const double scale = kDLoss * (weighted ? 2.0 : 1.0) / (mean ? static_cast<double>(n) : 1.0);
  EXPECT_TRUE(all_close(host_floats(d_logits), expected.d_input, gradient_tolerance(scale)));
}

void run_smooth_l1(Device device, uint64_t seed, int64_t n, float beta, Reduction reduction) {
  const std::vector<float> input = random_floats(n, seed, -2.0f, 2.0f);
  std::vector<float> target = random_floats(n, seed + 1, -2.0f, 2.0f);
  for (size_t i = 0; i < target.size(); i += 7) target[i] = input[i];  // d = 0: L1's gradient 0
  const std::vector<float> prior = random_floats(n, seed + 2);
  const SmoothL1Options options{reduction, beta};
  const Tensor input_tensor = on_device(input, device), target_tensor = on_device(target, device);
  Tensor loss, d_input = on_device(prior, device);
  smooth_l1_forward(input_tensor, target_tensor, options, loss);
  smooth_l1_backward(scalar_on(kDLoss, device), input_tensor, target_tensor, options, d_input);

  const bool mean = reduction == Reduction::mean;
  const reference::LossResult expected =
      reference::smooth_l1(input, target, beta, mean, kDLoss, prior);
  EXPECT_TRUE(all_close(host_floats(loss), {expected.loss}, kLossTolerance));
  const double scale = kDLoss / (mean ? static_cast<double>(n) : 1.0);
  EXPECT_TRUE(all_close(host_floats(d_input), expected.d_input, gradient_tolerance(scale)));
}

void run_multilabel(Device device, uint64_t seed, int64_t N, int64_t C, bool weighted,
                    Reduction reduction) {
  std::vector<float> input = random_floats(N * C, seed, -5.0f, 5.0f);
  add_large_logits(input);
  const std::vector<float> target = binary_targets(N * C, seed + 1, true);
  const std::vector<float> weight = weighted ? random_floats(C, seed + 2, 0.5f, 2.0f) : std::vector<float>{};
  const std::vector<float> prior = random_floats(N * C, seed + 3);
  const MultilabelSoftMarginOptions options{reduction};
  const Tensor input_tensor = on_device(input, Shape{N, C}, device);
  const Tensor target_tensor = on_device(target, Shape{N, C}, device);
  const Tensor weight_tensor = weighted ? on_device(weight, device) : Tensor();
  Tensor loss, d_input = on_device(prior, Shape{N, C}, device);
  multilabel_soft_margin_forward(input_tensor, target_tensor, weight_tensor, options, loss);
  multilabel_soft_margin_backward(scalar_on(kDLoss, device), input_tensor, target_tensor,
                                  weight_tensor, options, d_input);

  const bool mean = reduction == Reduction::mean;
  const reference::LossResult expected =
      reference::multilabel_soft_margin(input, target, weight, N, C, mean, kDLoss, prior);
  EXPECT_TRUE(all_close(host_floats(loss), {expected.loss}, kLossTolerance));
  const double scale = kDLoss * (weighted ? 2.0 : 1.0) / static_cast<double>(C) /
                       (mean ? static_cast<double>(N) : 1.0);
  EXPECT_TRUE(all_close(host_floats(d_input), expected.d_input, gradient_tolerance(scale)));
}

// ---------------------------------------------------------------------------------------

std::vector<OpCase> loss_cases() {
  std::vector<OpCase> cases;
  const Reduction reductions[] = {Reduction::mean, Reduction::sum};
  for (Reduction reduction : reductions) {
    const std::string r = std::string("_") + reduction_name(reduction);
    // Softmax cross entropy: one class, odd sizes, the box head's 91 classes, many rows.
    const int64_t shapes[][2] = {{1, 1}, {1, 3}, {8, 5}, {37, 21}, {300, 91}, {2000, 7}};
    for (const auto& s : shapes) {
      const int64_t N = s[0], C = s[1];
      cases.push_back({"softmax_cross_entropy_" + shape_name(N, C) + r, [=](Device d, uint64_t seed) {
                         run_cross_entropy(d, seed, N, C, -100, reduction, false);
                       }});
    }
    cases.push_back({"softmax_cross_entropy_large_logits_40x21" + r, [=](Device d, uint64_t seed) {
                       run_cross_entropy(d, seed, 40, 21, -100, reduction, true);
                     }});
    // ignore_index may be a valid class index (torch allows it): that class's rows drop out.
    cases.push_back({"softmax_cross_entropy_ignore_class_0_50x4" + r, [=](Device d, uint64_t seed) {
                       run_cross_entropy(d, seed, 50, 4, 0, reduction, false);
                     }});

    for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{1000}, int64_t{16385}}) {
      for (bool weighted : {false, true}) {
        const std::string name = "binary_cross_entropy_with_logits_n" + std::to_string(n) +
                                 (weighted ? "_weighted" : "") + r;
        cases.push_back({name, [=](Device d, uint64_t seed) {
                           run_binary_cross_entropy(d, seed, n, weighted, reduction, true);
                         }});
      }
    }
    cases.push_back({"binary_cross_entropy_with_logits_soft_targets_n999" + r,
                     [=](Device d, uint64_t seed) { run_binary_cross_entropy(d, seed, 999, true, reduction, false); }});

    const std::pair<float, const char*> betas[] = {{1.0f / 9.0f, "beta1_9"}, {0.0f, "beta0"}, {1.0f, "beta1"}};
    for (const auto& [beta, beta_name] : betas) {
      for (int64_t n : {int64_t{1}, int64_t{7}, int64_t{1000}, int64_t{16385}}) {
        const float b = beta;
        cases.push_back({std::string("smooth_l1_") + beta_name + "_n" + std::to_string(n) + r,
                         [=](Device d, uint64_t seed) { run_smooth_l1(d, seed, n, b, reduction); }});
      }
    }

    const int64_t multilabel_shapes[][2] = {{1, 20}, {4, 20}, {7, 3}, {16, 80}, {600, 33}};
    for (const auto& s : multilabel_shapes) {
      const int64_t N = s[0], C = s[1];
      for (bool weighted : {false, true}) {
        const std::string name = "multilabel_soft_margin_" + shape_name(N, C) +
                                 (weighted ? "_weighted" : "") + r;
        cases.push_back({name, [=](Device d, uint64_t seed) {
                           run_multilabel(d, seed, N, C, weighted, reduction);
                         }});
      }
    }
  }
  return cases;
}

// Edge cases: no valid rows, empty inputs, NaN, out-of-range targets.
std::vector<OpCase> loss_edge_cases() {
  std::vector<OpCase> cases;
  cases.push_back({"softmax_cross_entropy_all_rows_ignored", [](Device device, uint64_t seed) {
                     // torch: mean is 0 / 0 = NaN, sum is 0, and the gradient is 0.
                     const Tensor logits = on_device(random_floats(12, seed), Shape{4, 3}, device);
                     const Tensor targets = on_device(std::vector<int64_t>(4, -100), Shape{4}, device);
                     const std::vector<float> prior = random_floats(12, seed + 1);
                     for (Reduction reduction : {Reduction::mean, Reduction::sum}) {
                       Tensor loss, d_logits = on_device(prior, Shape{4, 3}, device);
                       softmax_cross_entropy_forward(logits, targets, {reduction, -100}, loss);
                       softmax_cross_entropy_backward(scalar_on(1.0f, device), logits, targets,
                                                      {reduction, -100}, d_logits);
                       const double expected = reduction == Reduction::mean
                                                   ? std::numeric_limits<double>::quiet_NaN() : 0.0;
                       EXPECT_TRUE(all_close(host_floats(loss), {expected}, kExact));
                       EXPECT_TRUE(bitwise_equal(host_floats(d_logits), prior));
                     }
                   }});
  cases.push_back({"losses_of_empty_inputs", [](Device device, uint64_t) {
                     // The mean of no terms is NaN (torch), the sum 0; gradients stay empty.
                     const double nan = std::numeric_limits<double>::quiet_NaN();
                     for (Reduction reduction : {Reduction::mean, Reduction::sum}) {
                       const double expected = reduction == Reduction::mean ? nan : 0.0;
                       const Tensor empty_2d = Tensor::empty({0, 5}, DType::float32, device);
                       const Tensor empty_1d = Tensor::empty({0}, DType::float32, device);
                       Tensor loss, d = Tensor::empty({0, 5}, DType::float32, device), d_1d = empty_1d.clone();
                       softmax_cross_entropy_forward(empty_2d, Tensor::empty({0}, DType::int64, device),
                                                     {reduction, -100}, loss);
                       EXPECT_TRUE(all_close(host_floats(loss), {expected}, kExact)) << "cross entropy";
                       binary_cross_entropy_with_logits_forward(empty_1d, empty_1d, Tensor(), {reduction}, loss);
                       EXPECT_TRUE(all_close(host_floats(loss), {expected}, kExact)) << "bce";
                       binary_cross_entropy_with_logits_backward(scalar_on(1.0f, device), empty_1d, empty_1d,
                                                                 Tensor(), {reduction}, d_1d);
                       smooth_l1_forward(empty_1d, empty_1d, {reduction, 1.0f}, loss);
                       EXPECT_TRUE(all_close(host_floats(loss), {expected}, kExact)) << "smooth_l1";
                       multilabel_soft_margin_forward(empty_2d, empty_2d, Tensor(), {reduction}, loss);
                       EXPECT_TRUE(all_close(host_floats(loss), {expected}, kExact)) << "multilabel";
                       multilabel_soft_margin_backward(scalar_on(1.0f, device), empty_2d, empty_2d,
                                                       Tensor(), {reduction}, d);
                     }
                   }});
  cases.push_back({"losses_propagate_nan", [](Device device, uint64_t seed) {
                     // One NaN input makes the loss NaN, as in torch, and its gradient NaN;
                     // in cross entropy the whole row's (its softmax is NaN).
                     std::vector<float> x = random_floats(12, seed);
                     x[4] = std::numeric_limits<float>::quiet_NaN();
                     const Tensor x_2d = on_device(x, Shape{4, 3}, device), x_1d = on_device(x, device);
                     const Tensor half = on_device(std::vector<float>(12, 0.5f), device);
                     Tensor loss;
                     softmax_cross_entropy_forward(x_2d, on_device(std::vector<int64_t>{0, 1, 2, 0}, device),
                                                   {}, loss);
                     EXPECT_TRUE(std::isnan(host_floats(loss)[0])) << "cross entropy";
                     Tensor d_2d = Tensor::zeros({4, 3}, DType::float32, device);
                     softmax_cross_entropy_backward(scalar_on(1.0f, device), x_2d,
                                                    on_device(std::vector<int64_t>{0, 1, 2, 0}, device), {}, d_2d);
                     const std::vector<float> d = host_floats(d_2d);
                     for (int i = 0; i < 12; ++i) EXPECT_EQ(std::isnan(d[i]), i / 3 == 1) << i;
                     binary_cross_entropy_with_logits_forward(x_1d, half, Tensor(), {}, loss);
                     EXPECT_TRUE(std::isnan(host_floats(loss)[0])) << "bce";
                     for (float beta : {0.0f, 1.0f}) {
                       smooth_l1_forward(x_1d, half, {Reduction::sum, beta}, loss);
                       EXPECT_TRUE(std::isnan(host_floats(loss)[0])) << "smooth_l1 beta " << beta;
                       Tensor d_1d = Tensor::zeros({12}, DType::float32, device);
                       smooth_l1_backward(scalar_on(1.0f, device), x_1d, half, {Reduction::sum, beta}, d_1d);
                       EXPECT_TRUE(std::isnan(host_floats(d_1d)[4])) << "smooth_l1 beta " << beta;
                     }
                     multilabel_soft_margin_forward(x_2d, half.reshape({4, 3}), Tensor(), {}, loss);
                     EXPECT_TRUE(std::isnan(host_floats(loss)[0])) << "multilabel";
                   }});
  cases.push_back({"softmax_cross_entropy_out_of_range_target", [](Device device, uint64_t seed) {
                     const Tensor logits = on_device(random_floats(12, seed), Shape{4, 3}, device);
                     const Tensor targets = on_device(std::vector<int64_t>{0, 3, 1, -100}, device);
                     Tensor loss;
                     if (device == Device::cpu) {
                       // Checked on the host, where the targets are: a named error.
                       try {
                         softmax_cross_entropy_forward(logits, targets, {}, loss);
                         ADD_FAILURE() << "no error for target 3 with C = 3";
                       } catch (const Error& error) {
                         EXPECT_NE(std::string(error.what()).find(
                                       "softmax_cross_entropy: targets[1] = 3 is out of range [0, 3)"),
                                   std::string::npos)
                             << error.what();
                       }
                       return;
                     }
                     // On the GPU: no host sync to report it, so the row is NaN (losses.h).
                     softmax_cross_entropy_forward(logits, targets, {}, loss);
                     EXPECT_TRUE(std::isnan(host_floats(loss)[0]));
                     Tensor d_logits = Tensor::zeros({4, 3}, DType::float32, device);
                     softmax_cross_entropy_backward(scalar_on(1.0f, device), logits, targets, {}, d_logits);
                     const std::vector<float> d = host_floats(d_logits);
                     for (int i = 0; i < 12; ++i) EXPECT_EQ(std::isnan(d[i]), i / 3 == 1) << i;
                   }});
  return cases;
}

const OpCaseRegistrar register_losses(loss_cases());
const OpCaseRegistrar register_loss_edges(loss_edge_cases());

}  // namespace
}  // namespace wise::testing
