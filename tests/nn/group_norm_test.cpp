// nn/group_norm.h: the backward through the gradient checker, determinism
// across thread counts and memory formats, and the error messages. Values are
// checked against the reference in tests/op_table/norm_cases.cpp and against
// torch in tests/fixtures/norm_parity_test.cpp.
#include "nn/group_norm.h"

#include <gtest/gtest.h>

#include <string>
#include <tuple>
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

Tensor random_tensor(const Shape& shape, uint64_t seed, Device device, float low = -1.0f, float high = 1.0f) {
  return on_device(random_floats(shape.numel(), seed, low, high), shape, device);
}

// z = y * probe: without a fixed random probe the checker's objective 1/2 sum(z^2)
// of a normalized output would not depend on x.
Tensor probed(const Tensor& y, const std::vector<float>& probe) {
  std::vector<float> values = y.to_vector<float>();
  for (size_t i = 0; i < values.size(); ++i) values[i] *= probe[i];
  return on_device(values, y.shape(), y.device());
}

DifferentiableOp group_norm_op(Device device, uint64_t seed, int64_t groups) {
  const Shape shape{2, 8, 3, 5};
  const std::vector<float> probe = random_floats(shape.numel(), seed + 9, 0.5f, 2.0f);
  const GroupNormOptions options{groups, 1e-5};
  DifferentiableOp op;
  op.name = "group_norm_g" + std::to_string(groups);
  op.inputs = {random_tensor(shape, seed, device, -2.0f, 3.0f),
               random_tensor({8}, seed + 1, device, 0.5f, 1.5f), random_tensor({8}, seed + 2, device)};
  op.forward = [=](const std::vector<Tensor>& in, uint64_t) {
    Tensor output, mean, rstd;
    group_norm_forward(in[0], in[1], in[2], options, output, mean, rstd);
    return std::vector<Tensor>{probed(output, probe)};
  };
  op.backward = [=](const std::vector<Tensor>& in, const std::vector<Tensor>&,
                    const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    Tensor output, mean, rstd;
    group_norm_forward(in[0], in[1], in[2], options, output, mean, rstd);
    group_norm_backward(probed(d_out[0], probe), in[0], in[1], mean, rstd, options, &d_in[0], &d_in[1],
                        &d_in[2]);
  };
  return op;
}

class GroupNormGradients : public ::testing::TestWithParam<Device> {};

TEST_P(GroupNormGradients, BackwardMatchesFiniteDifferencesForOneFewAndOneChannelGroups) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  GradientCheckOptions options;
  options.seed = seed_from_name("GroupNormGradients");
  for (int64_t groups : {1, 4, 8}) {
    SCOPED_TRACE(::testing::Message() << groups << " groups");
    EXPECT_TRUE(gradients_match(check_gradients(group_norm_op(device, options.seed, groups), options)));
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, GroupNormGradients, ::testing::ValuesIn(all_devices()), device_test_name);

struct GroupNormStep {
  std::vector<float> output, mean, rstd, d_input, d_weight, d_bias;
};

GroupNormStep group_norm_step(const Shape& shape, int64_t groups, MemoryFormat format, uint64_t seed) {
  const int64_t C = shape[1];
  const GroupNormOptions options{groups, 1e-5};
  const Tensor x = random_tensor(shape, seed, Device::cpu).to_format(format);
  const Tensor d_y = random_tensor(shape, seed + 1, Device::cpu).to_format(format);
  const Tensor weight = random_tensor({C}, seed + 2, Device::cpu),
               bias = random_tensor({C}, seed + 3, Device::cpu);
  Tensor output, mean, rstd;
  group_norm_forward(x, weight, bias, options, output, mean, rstd);
  Tensor d_input = Tensor::zeros(shape, DType::float32, Device::cpu, format);
  Tensor d_weight = Tensor::zeros({C}), d_bias = Tensor::zeros({C});
  group_norm_backward(d_y, x, weight, mean, rstd, options, &d_input, &d_weight, &d_bias);
  return {host_floats(output),  host_floats(mean),     host_floats(rstd),
          host_floats(d_input), host_floats(d_weight), host_floats(d_bias)};
}

void expect_bitwise_equal(const GroupNormStep& a, const GroupNormStep& b) {
  EXPECT_TRUE(bitwise_equal(a.output, b.output));
  EXPECT_TRUE(bitwise_equal(a.mean, b.mean));
  EXPECT_TRUE(bitwise_equal(a.rstd, b.rstd));
  EXPECT_TRUE(bitwise_equal(a.d_input, b.d_input));
  EXPECT_TRUE(bitwise_equal(a.d_weight, b.d_weight));
  EXPECT_TRUE(bitwise_equal(a.d_bias, b.d_bias));
}

// 2 x 32 x 33 x 35 = 73920 elements; with 4 groups, 9240 values per group (five
// chunks), 1155 per plane: every pass of the CPU launcher goes parallel.
const Shape kLargeShape{2, 32, 33, 35};

TEST(GroupNormDeterminism, CpuResultsAreBitwiseIdenticalAtOneAndTwoThreads) {
  const int threads = kernels::cpu::num_threads();
  kernels::cpu::set_num_threads(1);
  const GroupNormStep one = group_norm_step(kLargeShape, 4, MemoryFormat::plain, 21);
  kernels::cpu::set_num_threads(2);
  const GroupNormStep two = group_norm_step(kLargeShape, 4, MemoryFormat::plain, 21);
  kernels::cpu::set_num_threads(threads);
  expect_bitwise_equal(one, two);
}

// The sums run in (c, h, w) order whatever the layout: the format changes nothing.
TEST(GroupNormDeterminism, EveryMemoryFormatGivesThePlainResultBitForBit) {
  const GroupNormStep plain = group_norm_step(kLargeShape, 4, MemoryFormat::plain, 22);
  for (MemoryFormat format : {MemoryFormat::nhwc, MemoryFormat::nchw8c, MemoryFormat::nchw16c}) {
    SCOPED_TRACE(kernels::memory_format_name(format));
    expect_bitwise_equal(group_norm_step(kLargeShape, 4, format, 22), plain);
  }
}

TEST(GroupNormErrors, NameTheTensorAndTheExpectedShape) {
  const Tensor x = random_tensor({2, 6, 3, 3}, 1, Device::cpu);
  Tensor output, mean, rstd;
  EXPECT_NE(error_of([&] {
              group_norm_forward(x, Tensor{}, Tensor{}, {4, 1e-5}, output, mean, rstd);
            }).find("group_norm: input: num_groups 4 must divide the 6 channels of float32[2, 6, 3, 3]"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              group_norm_forward(x, Tensor::zeros({3}), Tensor{}, {3, 1e-5}, output, mean, rstd);
            }).find("group_norm: weight must have shape [6], got float32[3]"),
            std::string::npos);
  group_norm_forward(x, Tensor{}, Tensor{}, {3, 1e-5}, output, mean, rstd);
  const Tensor wrong_mean = Tensor::zeros({2, 2});
  Tensor d_input = Tensor::zeros(x.shape());
  EXPECT_NE(error_of([&] {
              group_norm_backward(x, x, Tensor{}, wrong_mean, rstd, {3, 1e-5}, &d_input, nullptr, nullptr);
            }).find("group_norm_backward: mean must have shape [2, 3], got float32[2, 2]"),
            std::string::npos);
}

}  // namespace
}  // namespace wise::testing
