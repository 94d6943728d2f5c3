// The losses (nn/losses.h): gradient checks on every device, bitwise-identical CPU
// results at 1 and 2 threads, named errors, and output reuse. Values against
// references and torch: tests/op_table/loss_cases.cpp, tests/fixtures/losses_parity_test.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "kernels/cpu/parallel_for.h"
#include "nn/losses.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/errors.h"
#include "tests/support/gradient_checker.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

Tensor random_tensor(const Shape& shape, uint64_t seed, Device device, float low = -2.0f,
                     float high = 2.0f) {
  return on_device(random_floats(shape.numel(), seed, low, high), shape, device);
}

// 0/1 labels.
Tensor label_tensor(const Shape& shape, uint64_t seed, Device device) {
  std::vector<float> labels = random_floats(shape.numel(), seed, 0.0f, 1.0f);
  for (float& t : labels) t = t < 0.5f ? 0.0f : 1.0f;
  return on_device(labels, shape, device);
}

// An op for the gradient checker: one float input (the first of the loss), the
// rest captured; forward returns {loss}, backward feeds d_outputs[0] as d_loss.
DifferentiableOp loss_op(const std::string& name, Tensor input,
                         std::function<void(const Tensor& input, Tensor& loss)> forward,
                         std::function<void(const Tensor& d_loss, const Tensor& input, Tensor& d_input)> backward) {
  DifferentiableOp op;
  op.name = name;
  op.inputs = {std::move(input)};
  op.forward = [forward](const std::vector<Tensor>& in, uint64_t) {
    Tensor loss;
    forward(in[0], loss);
    return std::vector<Tensor>{loss};
  };
  op.backward = [backward](const std::vector<Tensor>& in, const std::vector<Tensor>&,
                           const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    backward(d_out[0], in[0], d_in[0]);
  };
  return op;
}

// ---------------------------------------------------------------------------------------
// Gradient checks, per device and reduction.
// ---------------------------------------------------------------------------------------

class LossGradients : public ::testing::TestWithParam<Device> {
 protected:
  void SetUp() override { WISE_SKIP_IF_UNAVAILABLE(GetParam()); }
  Device device() const { return GetParam(); }
  void expect_match(const DifferentiableOp& op) {
    GradientCheckOptions options;
    options.seed = seed_from_name(op.name);
    SCOPED_TRACE(op.name + ", seed " + std::to_string(options.seed));
    EXPECT_TRUE(gradients_match(check_gradients(op, options)));
  }
};

TEST_P(LossGradients, SoftmaxCrossEntropy) {
  const Tensor targets = on_device(std::vector<int64_t>{2, 0, -100, 4, 1, 4}, device());
  for (Reduction reduction : {Reduction::mean, Reduction::sum}) {
    const SoftmaxCrossEntropyOptions options{reduction, -100};
    expect_match(loss_op(
        std::string("softmax_cross_entropy_") + (reduction == Reduction::mean ? "mean" : "sum"),
        random_tensor({6, 5}, 1, device()),
        [=](const Tensor& x, Tensor& loss) { softmax_cross_entropy_forward(x, targets, options, loss); },
        [=](const Tensor& d, const Tensor& x, Tensor& dx) {
          softmax_cross_entropy_backward(d, x, targets, options, dx);
        }));
  }
}

TEST_P(LossGradients, BinaryCrossEntropyWithLogits) {
  const Tensor targets = label_tensor({4, 7}, 2, device());
  const Tensor weight = random_tensor({4, 7}, 3, device(), 0.5f, 2.0f);
  for (Reduction reduction : {Reduction::mean, Reduction::sum}) {
    for (const Tensor& w : {Tensor(), weight}) {
      const BinaryCrossEntropyWithLogitsOptions options{reduction};
      expect_match(loss_op(
          std::string("binary_cross_entropy_with_logits_") +
              (reduction == Reduction::mean ? "mean" : "sum") + (w.defined() ? "_weighted" : ""),
          random_tensor({4, 7}, 4, device(), -4.0f, 4.0f),
          [=](const Tensor& x, Tensor& loss) {
            binary_cross_entropy_with_logits_forward(x, targets, w, options, loss);
          },
          [=](const Tensor& d, const Tensor& x, Tensor& dx) {
            binary_cross_entropy_with_logits_backward(d, x, targets, w, options, dx);
          }));
    }
  }
}

TEST_P(LossGradients, SmoothL1) {
  for (float beta : {1.0f / 9.0f, 0.0f, 1.0f}) {
    // Differences kept >= 0.04 away from the kinks at |d| = beta (a jump in the second
    // derivative) and, for L1, at d = 0, so central differences of step 0.01 straddle
    // neither: every third one inside the quadratic zone, |d| in [0.1, 0.6] beta, the
    // others outside, |d| in beta + [0.05, 2.05].
    const std::vector<float> magnitude = random_floats(40, 5, 0.0f, 1.0f);
    std::vector<float> difference(40);
    for (size_t i = 0; i < 40; ++i) {
      const float size = beta > 0.0f && i % 3 == 0 ? beta * (0.1f + 0.5f * magnitude[i])
                                                   : beta + 0.05f + 2.0f * magnitude[i];
      difference[i] = i % 2 == 0 ? size : -size;
    }
    const std::vector<float> target_values = random_floats(40, 6);
    std::vector<float> input_values(40);
    for (size_t i = 0; i < 40; ++i) input_values[i] = target_values[i] + difference[i];
    const Tensor target = on_device(target_values, device());
    for (Reduction reduction : {Reduction::mean, Reduction::sum}) {
      const SmoothL1Options options{reduction, beta};
      expect_match(loss_op(
          "smooth_l1_beta" + std::to_string(beta) + (reduction == Reduction::mean ? "_mean" : "_sum"),
          on_device(input_values, device()),
          [=](const Tensor& x, Tensor& loss) { smooth_l1_forward(x, target, options, loss); },
          [=](const Tensor& d, const Tensor& x, Tensor& dx) {
            smooth_l1_backward(d, x, target, options, dx);
          }));
    }
  }
}

TEST_P(LossGradients, MultilabelSoftMargin) {
  const Tensor target = label_tensor({3, 6}, 7, device());
  const Tensor weight = random_tensor({6}, 8, device(), 0.5f, 2.0f);
  for (Reduction reduction : {Reduction::mean, Reduction::sum}) {
    for (const Tensor& w : {Tensor(), weight}) {
      const MultilabelSoftMarginOptions options{reduction};
      expect_match(loss_op(
          std::string("multilabel_soft_margin_") + (reduction == Reduction::mean ? "mean" : "sum") +
              (w.defined() ? "_weighted" : ""),
          random_tensor({3, 6}, 9, device(), -4.0f, 4.0f),
          [=](const Tensor& x, Tensor& loss) {
            multilabel_soft_margin_forward(x, target, w, options, loss);
          },
          [=](const Tensor& d, const Tensor& x, Tensor& dx) {
            multilabel_soft_margin_backward(d, x, target, w, options, dx);
          }));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, LossGradients, ::testing::ValuesIn(all_devices()), device_test_name);

// ---------------------------------------------------------------------------------------
// Determinism: the same bits at 1 and 2 CPU threads. Sizes above the CPU launcher's
// serial threshold (16384 rows or elements) and the reduction chunk (4096), so both the
// element loops and the sums really split.
// ---------------------------------------------------------------------------------------

// Runs `step` (a forward and a backward, returning the loss and gradient buffers) at 1
// and at 2 threads and compares them bit for bit.
void expect_same_bits_at_1_and_2_threads(const std::function<std::vector<Tensor>()>& step) {
  const int threads = kernels::cpu::num_threads();
  kernels::cpu::set_num_threads(1);
  const std::vector<Tensor> serial = step();
  kernels::cpu::set_num_threads(2);
  const std::vector<Tensor> parallel = step();
  kernels::cpu::set_num_threads(threads);
  ASSERT_EQ(serial.size(), parallel.size());
  for (size_t k = 0; k < serial.size(); ++k) {
    EXPECT_TRUE(bitwise_equal(host_floats(parallel[k]), host_floats(serial[k]))) << "output " << k;
  }
}

TEST(LossDeterminism, SameBitsAtOneAndTwoThreads) {
  const Device cpu = Device::cpu;
  const Tensor d_loss = on_device(std::vector<float>{0.75f}, cpu);
  for (Reduction reduction : {Reduction::mean, Reduction::sum}) {
    SCOPED_TRACE(reduction == Reduction::mean ? "mean" : "sum");
    const int64_t N = 20000, C = 3;
    const Tensor logits = random_tensor({N, C}, 11, cpu, -5.0f, 5.0f);
    std::vector<int64_t> classes(N);
    for (int64_t n = 0; n < N; ++n) classes[n] = n % 7 == 6 ? -100 : n % C;
    const Tensor targets = on_device(classes, cpu);
    expect_same_bits_at_1_and_2_threads([&] {
      Tensor loss, d_logits = random_tensor({N, C}, 12, cpu);
      softmax_cross_entropy_forward(logits, targets, {reduction, -100}, loss);
      softmax_cross_entropy_backward(d_loss, logits, targets, {reduction, -100}, d_logits);
      return std::vector<Tensor>{loss, d_logits};
    });

    const int64_t n = 50001;
    const Tensor x = random_tensor({n}, 13, cpu, -5.0f, 5.0f), y = label_tensor({n}, 14, cpu);
    const Tensor weight = random_tensor({n}, 15, cpu, 0.5f, 2.0f);
    expect_same_bits_at_1_and_2_threads([&] {
      Tensor loss, d_x = random_tensor({n}, 16, cpu);
      binary_cross_entropy_with_logits_forward(x, y, weight, {reduction}, loss);
      binary_cross_entropy_with_logits_backward(d_loss, x, y, weight, {reduction}, d_x);
      return std::vector<Tensor>{loss, d_x};
    });
    expect_same_bits_at_1_and_2_threads([&] {
      Tensor loss, d_x = random_tensor({n}, 17, cpu);
      smooth_l1_forward(x, y, {reduction, 1.0f / 9.0f}, loss);
      smooth_l1_backward(d_loss, x, y, {reduction, 1.0f / 9.0f}, d_x);
      return std::vector<Tensor>{loss, d_x};
    });

    const Tensor scores = random_tensor({17000, 3}, 18, cpu, -5.0f, 5.0f);
    const Tensor labels = label_tensor({17000, 3}, 19, cpu);
    const Tensor class_weight = random_tensor({3}, 20, cpu, 0.5f, 2.0f);
    expect_same_bits_at_1_and_2_threads([&] {
      Tensor loss, d_scores = random_tensor({17000, 3}, 21, cpu);
      multilabel_soft_margin_forward(scores, labels, class_weight, {reduction}, loss);
      multilabel_soft_margin_backward(d_loss, scores, labels, class_weight, {reduction}, d_scores);
      return std::vector<Tensor>{loss, d_scores};
    });
  }
}

// ---------------------------------------------------------------------------------------
// Named errors and the output buffer.
// ---------------------------------------------------------------------------------------

void expect_error(const std::function<void()>& action, const std::string& fragment) {
  const std::string message = error_of(action);
  EXPECT_NE(message.find(fragment), std::string::npos) << "expected \"" << fragment << "\" in: " << message;
}

TEST(LossErrors, NameTheTensorAndExpectedVsFound) {
  const Device cpu = Device::cpu;
  Tensor loss;
  const Tensor logits = Tensor::zeros({8, 5}), labels = Tensor::zeros({8, 5});
  const Tensor targets = Tensor::zeros({8}, DType::int64);
  expect_error([&] { softmax_cross_entropy_forward(logits, Tensor::zeros({8, 1}, DType::int64), {}, loss); },
               "softmax_cross_entropy: targets must have shape [N] = [8], got int64[8, 1] cpu plain");
  expect_error([&] { softmax_cross_entropy_forward(logits, Tensor::zeros({8}), {}, loss); },
               "softmax_cross_entropy: targets must be int64 class indices on cpu (the device of "
               "logits), got float32[8] cpu plain");
  expect_error([&] { softmax_cross_entropy_forward(Tensor::zeros({8, 5, 2}), targets, {}, loss); },
               "softmax_cross_entropy: logits must be 2-d (N, C), got float32[8, 5, 2] cpu plain");
  expect_error([&] { softmax_cross_entropy_forward(Tensor::zeros({8, 0}), targets, {}, loss); },
               "softmax_cross_entropy: logits must have at least one class (C >= 1)");
  expect_error(
      [&] {
        Tensor d_logits = Tensor::zeros({8, 4});
        softmax_cross_entropy_backward(on_device(std::vector<float>{1.0f}, cpu), logits, targets,
                                       {}, d_logits);
      },
      "softmax_cross_entropy: d_logits must have the shape of logits [8, 5], got float32[8, 4] cpu plain");
  expect_error(
      [&] {
        Tensor d_logits = Tensor::zeros({8, 5});
        softmax_cross_entropy_backward(Tensor::zeros({2}), logits, targets, {}, d_logits);
      },
      "softmax_cross_entropy: d_loss must hold one element (the loss's gradient), got float32[2] cpu plain");
  expect_error(
      [&] {
        const Tensor out_of_range = on_device(std::vector<int64_t>{0, 1, 2, 3, 4, -100, -1, 0}, cpu);
        softmax_cross_entropy_forward(logits, out_of_range, {}, loss);
      },
      "softmax_cross_entropy: targets[6] = -1 is out of range [0, 5) for logits float32[8, 5] cpu "
      "plain (ignore_index = -100)");

  expect_error([&] { binary_cross_entropy_with_logits_forward(logits, Tensor::zeros({8, 4}), Tensor(), {}, loss); },
               "binary_cross_entropy_with_logits: targets must have the shape of logits [8, 5], got "
               "float32[8, 4] cpu plain");
  expect_error([&] { binary_cross_entropy_with_logits_forward(logits, labels, Tensor::zeros({5}), {}, loss); },
               "binary_cross_entropy_with_logits: weight must have the shape of logits [8, 5], got "
               "float32[5] cpu plain");
  expect_error(
      [&] {
        binary_cross_entropy_with_logits_forward(logits, Tensor::zeros({8, 5}, DType::int64), Tensor(), {}, loss);
      },
      "binary_cross_entropy_with_logits: targets must be float32 plain on cpu, got int64[8, 5] cpu plain");
  expect_error([&] { smooth_l1_forward(logits, labels, {Reduction::sum, -0.5f}, loss); },
               "smooth_l1: beta must be >= 0 (0 is the L1 loss), got -0.5");
  expect_error([&] { smooth_l1_forward(logits, Tensor(), {}, loss); }, "smooth_l1: target is undefined");
  expect_error([&] { multilabel_soft_margin_forward(logits, labels, Tensor::zeros({8}), {}, loss); },
               "multilabel_soft_margin: weight must have shape [C] = [5], got float32[8] cpu plain");
  expect_error([&] { multilabel_soft_margin_forward(Tensor::zeros({40}), Tensor::zeros({40}), Tensor(), {}, loss); },
               "multilabel_soft_margin: input must be 2-d (N, C), got float32[40] cpu plain");
  const Tensor blocked = Tensor::zeros({1, 3, 2, 2}, DType::float32, cpu, MemoryFormat::nchw8c);
  expect_error([&] { smooth_l1_forward(blocked, blocked, {}, loss); },
               "smooth_l1: input must be float32 plain on cpu, got float32[1, 3, 2, 2] cpu nChw8c");
}

TEST(LossOutput, IsAOneElementTensorOnTheInputsDeviceAndIsReused) {
  const Tensor x = random_tensor({4, 3}, 31, Device::cpu), y = label_tensor({4, 3}, 32, Device::cpu);
  Tensor loss = Tensor::zeros({1});
  const void* buffer = loss.raw_data();
  multilabel_soft_margin_forward(x, y, Tensor(), {}, loss);
  EXPECT_EQ(loss.raw_data(), buffer) << "a fitting output must be reused, not reallocated";
  Tensor fresh;
  smooth_l1_forward(x, y, {}, fresh);
  EXPECT_EQ(fresh.shape(), Shape{1});
  EXPECT_EQ(fresh.device(), Device::cpu);
}

}  // namespace
}  // namespace wise::testing
