// nn/batch_norm.h: every backward through the gradient checker, determinism
// across thread counts and memory formats, and the error messages. Values are
// checked against the reference in tests/op_table/norm_cases.cpp and against
// torch in tests/fixtures/norm_parity_test.cpp.
#include "nn/batch_norm.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "kernels/cpu/parallel_for.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/errors.h"
#include "tests/support/gradient_checker.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using kernels::MemoryFormat;

const Shape kShape{2, 3, 5, 7};

Tensor random_tensor(const Shape& shape, uint64_t seed, Device device, float low = -1.0f, float high = 1.0f) {
  return on_device(random_floats(shape.numel(), seed, low, high), shape, device);
}

// z = y * probe with a fixed random probe. Without it the checker's objective
// 1/2 sum(z^2) of a normalized output is constant in x (sum of x_hat^2 = M), and
// the input gradients it checks would be ~0.
Tensor probed(const Tensor& y, const std::vector<float>& probe) {
  std::vector<float> values = y.to_vector<float>();
  for (size_t i = 0; i < values.size(); ++i) values[i] *= probe[i];
  return on_device(values, y.shape(), y.device());
}

DifferentiableOp training_op(Device device, uint64_t seed) {
  const std::vector<float> probe = random_floats(kShape.numel(), seed + 9, 0.5f, 2.0f);
  DifferentiableOp op;
  op.name = "batch_norm_2d_training";
  op.inputs = {random_tensor(kShape, seed, device, -2.0f, 3.0f),
               random_tensor({3}, seed + 1, device, 0.5f, 1.5f), random_tensor({3}, seed + 2, device)};
  op.forward = [probe](const std::vector<Tensor>& in, uint64_t) {
    Tensor no_running_mean, no_running_var, output, save_mean, save_invstd;  // track_running_stats = False
    batch_norm_2d_training_forward(in[0], in[1], in[2], no_running_mean, no_running_var, {}, output,
                                   save_mean, save_invstd);
    return std::vector<Tensor>{probed(output, probe)};
  };
  op.backward = [probe](const std::vector<Tensor>& in, const std::vector<Tensor>&,
                        const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    Tensor no_running_mean, no_running_var, output, save_mean, save_invstd;
    batch_norm_2d_training_forward(in[0], in[1], in[2], no_running_mean, no_running_var, {}, output,
                                   save_mean, save_invstd);
    batch_norm_2d_training_backward(probed(d_out[0], probe), in[0], in[1], save_mean, save_invstd, &d_in[0],
                                    &d_in[1], &d_in[2]);
  };
  return op;
}

DifferentiableOp eval_op(Device device, uint64_t seed) {
  const std::vector<float> probe = random_floats(kShape.numel(), seed + 9, 0.5f, 2.0f);
  const Tensor running_mean = random_tensor({3}, seed + 3, device);
  const Tensor running_var = random_tensor({3}, seed + 4, device, 0.5f, 2.0f);
  DifferentiableOp op;
  op.name = "batch_norm_2d_eval";
  op.inputs = {random_tensor(kShape, seed, device), random_tensor({3}, seed + 1, device, 0.5f, 1.5f),
               random_tensor({3}, seed + 2, device)};
  op.forward = [=](const std::vector<Tensor>& in, uint64_t) {
    Tensor output;
    batch_norm_2d_eval_forward(in[0], in[1], in[2], running_mean, running_var, {}, output);
    return std::vector<Tensor>{probed(output, probe)};
  };
  op.backward = [=](const std::vector<Tensor>& in, const std::vector<Tensor>&,
                    const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    batch_norm_2d_eval_backward(probed(d_out[0], probe), in[0], in[1], running_mean, running_var, {},
                                &d_in[0], &d_in[1], &d_in[2]);
  };
  return op;
}

DifferentiableOp frozen_op(Device device, uint64_t seed) {
  Tensor scale, shift;
  frozen_batch_norm_scale_shift(random_tensor({3}, seed + 1, device), random_tensor({3}, seed + 2, device),
                                random_tensor({3}, seed + 3, device),
                                random_tensor({3}, seed + 4, device, 0.5f, 2.0f), 1e-5, scale, shift);
  DifferentiableOp op;
  op.name = "frozen_batch_norm";
  op.inputs = {random_tensor(kShape, seed, device)};
  op.forward = [=](const std::vector<Tensor>& in, uint64_t) {
    Tensor output;
    frozen_batch_norm_forward(in[0], scale, shift, output);
    return std::vector<Tensor>{output};
  };
  op.backward = [=](const std::vector<Tensor>&, const std::vector<Tensor>&, const std::vector<Tensor>& d_out,
                    std::vector<Tensor>& d_in, uint64_t) {
    frozen_batch_norm_backward(d_out[0], scale, d_in[0]);
  };
  return op;
}

class BatchNormGradients : public ::testing::TestWithParam<Device> {};

TEST_P(BatchNormGradients, TrainingEvalAndFrozenBackwardsMatchFiniteDifferences) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  GradientCheckOptions options;
  options.seed = seed_from_name("BatchNormGradients");
  EXPECT_TRUE(gradients_match(check_gradients(training_op(device, options.seed), options)));
  EXPECT_TRUE(gradients_match(check_gradients(eval_op(device, options.seed), options)));
  EXPECT_TRUE(gradients_match(check_gradients(frozen_op(device, options.seed), options)));
}

INSTANTIATE_TEST_SUITE_P(Devices, BatchNormGradients, ::testing::ValuesIn(all_devices()), device_test_name);

// Everything one training step computes, as host vectors.
struct TrainingStep {
  std::vector<float> output, save_mean, save_invstd, running_mean, running_var, d_input, d_weight, d_bias;
};

TrainingStep training_step(const Shape& shape, MemoryFormat format, uint64_t seed) {
  const int64_t C = shape[1];
  const Tensor x = random_tensor(shape, seed, Device::cpu).to_format(format);
  const Tensor d_y = random_tensor(shape, seed + 1, Device::cpu).to_format(format);
  const Tensor weight = random_tensor({C}, seed + 2, Device::cpu),
               bias = random_tensor({C}, seed + 3, Device::cpu);
  Tensor running_mean = Tensor::zeros({C}), running_var = Tensor::zeros({C});
  running_var.fill(1.0f);
  Tensor output, save_mean, save_invstd;
  batch_norm_2d_training_forward(x, weight, bias, running_mean, running_var, {}, output, save_mean,
                                 save_invstd);
  Tensor d_input = Tensor::zeros(shape, DType::float32, Device::cpu, format);
  Tensor d_weight = Tensor::zeros({C}), d_bias = Tensor::zeros({C});
  batch_norm_2d_training_backward(d_y, x, weight, save_mean, save_invstd, &d_input, &d_weight, &d_bias);
  return {host_floats(output),       host_floats(save_mean),   host_floats(save_invstd),
          host_floats(running_mean), host_floats(running_var), host_floats(d_input),
          host_floats(d_weight),     host_floats(d_bias)};
}

void expect_bitwise_equal(const TrainingStep& a, const TrainingStep& b) {
  EXPECT_TRUE(bitwise_equal(a.output, b.output));
  EXPECT_TRUE(bitwise_equal(a.save_mean, b.save_mean));
  EXPECT_TRUE(bitwise_equal(a.save_invstd, b.save_invstd));
  EXPECT_TRUE(bitwise_equal(a.running_mean, b.running_mean));
  EXPECT_TRUE(bitwise_equal(a.running_var, b.running_var));
  EXPECT_TRUE(bitwise_equal(a.d_input, b.d_input));
  EXPECT_TRUE(bitwise_equal(a.d_weight, b.d_weight));
  EXPECT_TRUE(bitwise_equal(a.d_bias, b.d_bias));
}

// 4 x 33 x 35 = 4620 values per channel: three chunks each, 48 work items, and
// 73920 elements: the CPU launcher goes parallel for every pass.
const Shape kLargeShape{4, 16, 33, 35};

TEST(BatchNormDeterminism, CpuResultsAreBitwiseIdenticalAtOneAndTwoThreads) {
  const int threads = kernels::cpu::num_threads();
  kernels::cpu::set_num_threads(1);
  const TrainingStep one = training_step(kLargeShape, MemoryFormat::plain, 11);
  kernels::cpu::set_num_threads(2);
  const TrainingStep two = training_step(kLargeShape, MemoryFormat::plain, 11);
  kernels::cpu::set_num_threads(threads);
  expect_bitwise_equal(one, two);
}

// The sums run in (n, h, w) order whatever the layout: the format changes nothing.
TEST(BatchNormDeterminism, EveryMemoryFormatGivesThePlainResultBitForBit) {
  const TrainingStep plain = training_step(kLargeShape, MemoryFormat::plain, 12);
  for (MemoryFormat format : {MemoryFormat::nhwc, MemoryFormat::nchw8c, MemoryFormat::nchw16c}) {
    SCOPED_TRACE(kernels::memory_format_name(format));
    expect_bitwise_equal(training_step(kLargeShape, format, 12), plain);
  }
}

TEST(BatchNormErrors, NameTheTensorAndTheExpectedShape) {
  const Tensor x = random_tensor({2, 3, 4, 4}, 1, Device::cpu);
  Tensor running_mean = Tensor::zeros({3}), running_var = Tensor::zeros({3});
  Tensor output, save_mean, save_invstd;
  const Tensor wrong_weight = Tensor::zeros({4});
  EXPECT_NE(error_of([&] {
              batch_norm_2d_training_forward(x, wrong_weight, Tensor{}, running_mean, running_var, {}, output,
                                             save_mean, save_invstd);
            }).find("batch_norm_2d: weight must have shape [3] (one per channel), got float32[4]"),
            std::string::npos);
  const Tensor flat = Tensor::zeros({2, 3});
  EXPECT_NE(error_of([&] {
              batch_norm_2d_eval_forward(flat, Tensor{}, Tensor{}, running_mean, running_var, {}, output);
            }).find("batch_norm_2d_eval: input must be 4-d (N, C, H, W), got float32[2, 3]"),
            std::string::npos);
  // One value per channel: torch refuses to train on it, and so do we.
  const Tensor single = Tensor::zeros({1, 3, 1, 1});
  EXPECT_NE(error_of([&] {
              batch_norm_2d_training_forward(single, Tensor{}, Tensor{}, running_mean, running_var, {},
                                             output, save_mean, save_invstd);
            }).find("expected more than 1 value per channel when training"),
            std::string::npos);
  Tensor no_running_var;
  EXPECT_NE(error_of([&] {
              batch_norm_2d_training_forward(x, Tensor{}, Tensor{}, running_mean, no_running_var, {}, output,
                                             save_mean, save_invstd);
            }).find("running_mean and running_var must both be defined"),
            std::string::npos);
  // A gradient in another format than the input is not silently reordered.
  batch_norm_2d_training_forward(x, Tensor{}, Tensor{}, running_mean, running_var, {}, output, save_mean,
                                 save_invstd);
  Tensor d_input = Tensor::zeros(x.shape(), DType::float32, Device::cpu, MemoryFormat::nchw8c);
  EXPECT_NE(error_of([&] {
              batch_norm_2d_training_backward(x, x, Tensor{}, save_mean, save_invstd, &d_input, nullptr,
                                              nullptr);
            })
                .find("d_input must exist as float32[2, 3, 4, 4] cpu plain (gradients accumulate), got "
                      "float32[2, 3, 4, 4] cpu nChw8c"),
            std::string::npos);
  Tensor folded_weight, folded_bias;
  EXPECT_NE(error_of([&] {
              fold_batch_norm(Tensor::zeros({4, 3}), Tensor{}, Tensor{}, Tensor{}, running_mean, running_var,
                              1e-5, folded_weight, folded_bias);
            }).find("fold_batch_norm: conv_weight must be plain 4-d (O, I, kh, kw), got float32[4, 3]"),
            std::string::npos);
}

}  // namespace
}  // namespace wise::testing
