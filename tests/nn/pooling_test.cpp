// Pooling layers (nn/pooling.h): hand-computed examples, gradients by finite
// differences, blocked memory formats against the plain result, determinism across
// thread counts, and named errors. The reference rows are in
// tests/op_table/pooling_cases.cpp, torch parity in tests/fixtures/pooling_parity_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "kernels/cpu/parallel_for.h"
#include "kernels/elementwise.h"
#include "nn/pooling.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/gradient_checker.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using ::testing::HasSubstr;

const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Distinct values at least 0.05 apart, shuffled: a finite-difference step of 0.01
// never changes which element of a window is the maximum.
std::vector<float> separated_values(int64_t n, uint64_t seed) {
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    values[static_cast<size_t>(i)] = 0.05f * static_cast<float>(i - n / 2);
  std::mt19937_64 engine(seed);
  std::shuffle(values.begin(), values.end(), engine);
  return values;
}

// A blocked or nhwc buffer filled with NaN, padding included: the layer must overwrite
// every element, padding channels with zeros.
Tensor poisoned(const Shape& shape, MemoryFormat format, Device device) {
  Tensor tensor = Tensor::empty(shape, DType::float32, device, format);
  kernels::fill(device, tensor.data<float>(), kNaN, tensor.physical_numel());
  return tensor;
}

const MemoryFormat kOtherFormats[] = {MemoryFormat::nhwc, MemoryFormat::nchw8c,
                                      MemoryFormat::nchw16c};

class PoolingLayer : public ::testing::TestWithParam<Device> {};

TEST_P(PoolingLayer, MaxPoolHandComputedExample) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  // 1  2  3  4      3x3 / 2, pad 1: windows centred on (0,0), (0,2), (2,0), (2,2),
  // 5  6  7  8      clipped to the input -> maxima 6, 8, 14, 16 at flat 5, 7, 13, 15.
  // 9 10 11 12
  // 13 14 15 16
  std::vector<float> x(16);
  std::iota(x.begin(), x.end(), 1.0f);
  Tensor y, argmax;
  max_pool2d_forward(on_device(x, {1, 1, 4, 4}, device), {3, 2, 1}, y, argmax);
  EXPECT_TRUE(all_close(host_floats(y), {6, 8, 14, 16}, kExact));
  EXPECT_EQ(argmax.to_vector<int32_t>(), (std::vector<int32_t>{5, 7, 13, 15}));
  Tensor d_x = on_device(std::vector<float>(16, 0.5f), {1, 1, 4, 4}, device);
  max_pool2d_backward(on_device(std::vector<float>{1, 2, 3, 4}, {1, 1, 2, 2}, device), argmax,
                      {3, 2, 1}, d_x);
  std::vector<double> expected(16, 0.5);
  expected[5] += 1, expected[7] += 2, expected[13] += 3, expected[15] += 4;
  EXPECT_TRUE(all_close(host_floats(d_x), expected, kExact));
}

TEST_P(PoolingLayer, MaxPoolTiesPickTheFirstMaximumAndSharedElementsGatherEveryWindow) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  // All equal: each window selects its first in-bounds element, as torch does. With
  // 3x3 / 1 pad 1 the centre (1, 1) is first in window (2, 2) only; (0, 0) is first in
  // windows (0, 0), (0, 1), (1, 0), (1, 1), and its gradient sums all four.
  Tensor y, argmax;
  max_pool2d_forward(Tensor::zeros({1, 1, 3, 3}, DType::float32, device), {3, 1, 1}, y, argmax);
  EXPECT_EQ(argmax.to_vector<int32_t>(), (std::vector<int32_t>{0, 0, 1, 0, 0, 1, 3, 3, 4}));
  Tensor d_x = Tensor::zeros({1, 1, 3, 3}, DType::float32, device);
  max_pool2d_backward(
      on_device(std::vector<float>{1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}, device), argmax,
      {3, 1, 1}, d_x);
  EXPECT_TRUE(all_close(host_floats(d_x), {1 + 2 + 4 + 5, 3 + 6, 0, 7 + 8, 9, 0, 0, 0, 0}, kExact));
}

TEST_P(PoolingLayer, MaxPoolNaNWinsItsWindowsAndGetsTheirGradient) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  // torch's rule: a NaN replaces the running maximum, so the window's output is NaN and
  // its argmax is the LAST NaN in row-major order, which receives the gradient.
  const std::vector<float> x = {1, kNaN, 3, kNaN};
  Tensor y, argmax;
  max_pool2d_forward(on_device(x, {1, 1, 2, 2}, device), {2, 2, 0}, y, argmax);
  EXPECT_TRUE(std::isnan(host_floats(y)[0]));
  EXPECT_EQ(argmax.to_vector<int32_t>(), std::vector<int32_t>{3});
  Tensor d_x = Tensor::zeros({1, 1, 2, 2}, DType::float32, device);
  max_pool2d_backward(on_device(std::vector<float>{5}, {1, 1, 1, 1}, device), argmax, {2, 2, 0},
                      d_x);
  EXPECT_TRUE(all_close(host_floats(d_x), {0, 0, 0, 5}, kExact));
}

TEST_P(PoolingLayer, GlobalAveragePoolHandComputedExample) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  Tensor y;
  global_average_pool_forward(
      on_device(std::vector<float>{1, 2, 3, 4, -1, -1, -1, -5}, {1, 2, 2, 2}, device), y);
  EXPECT_EQ(y.shape(), Shape({1, 2, 1, 1}));
  EXPECT_TRUE(all_close(host_floats(y), {2.5, -2}, kExact));
  Tensor d_x = on_device(std::vector<float>(8, 1.0f), {1, 2, 2, 2}, device);
  global_average_pool_backward(on_device(std::vector<float>{4, 8}, {1, 2, 1, 1}, device), d_x);
  EXPECT_TRUE(all_close(host_floats(d_x), {2, 2, 2, 2, 3, 3, 3, 3}, kExact));
}

DifferentiableOp max_pool_op(Device device, const Shape& shape, MaxPool2dOptions options,
                             uint64_t seed) {
  DifferentiableOp op;
  op.name = "max_pool2d";
  op.inputs = {on_device(separated_values(shape.numel(), seed), shape, device)};
  op.forward = [options](const std::vector<Tensor>& in, uint64_t) {
    Tensor y, argmax;
    max_pool2d_forward(in[0], options, y, argmax);
    return std::vector<Tensor>{y};
  };
  op.backward = [options](const std::vector<Tensor>& in, const std::vector<Tensor>&,
                          const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    Tensor y, argmax;
    max_pool2d_forward(in[0], options, y, argmax);
    max_pool2d_backward(d_out[0], argmax, options, d_in[0]);
  };
  return op;
}

TEST_P(PoolingLayer, GradientsMatchFiniteDifferences) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  GradientCheckOptions options;
  options.seed = seed_from_name("PoolingLayer.GradientsMatchFiniteDifferences");
  EXPECT_TRUE(
      gradients_match(check_gradients(max_pool_op(device, {2, 3, 7, 9}, {3, 2, 1}, 1), options)));
  EXPECT_TRUE(
      gradients_match(check_gradients(max_pool_op(device, {1, 2, 8, 8}, {1, 2, 0}, 2), options)));
  EXPECT_TRUE(
      gradients_match(check_gradients(max_pool_op(device, {1, 2, 5, 6}, {3, 1, 1}, 3), options)));

  DifferentiableOp average;
  average.name = "global_average_pool";
  average.inputs = {on_device(random_floats(2 * 3 * 5 * 4, 4), {2, 3, 5, 4}, device)};
  average.forward = [](const std::vector<Tensor>& in, uint64_t) {
    Tensor y;
    global_average_pool_forward(in[0], y);
    return std::vector<Tensor>{y};
  };
  average.backward = [](const std::vector<Tensor>&, const std::vector<Tensor>&,
                        const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    global_average_pool_backward(d_out[0], d_in[0]);
  };
  EXPECT_TRUE(gradients_match(check_gradients(average, options)));
}

// oneDNN hands max pooling blocked activations (ResNet's conv1 -> maxpool): every format,
// for input and gradients independently, gives the plain result bit for bit, and blocked
// padding channels come out zero.
TEST_P(PoolingLayer, MaxPoolBlockedFormatsMatchThePlainResult) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const Shape shape{2, 20, 9, 11};  // 20 channels: padding in both blocked formats
  const MaxPool2dOptions options{3, 2, 1};
  const Tensor x = on_device(random_floats(shape.numel(), 11), shape, device);
  Tensor y, argmax;
  max_pool2d_forward(x, options, y, argmax);
  const Tensor d_y = on_device(random_floats(y.numel(), 12), y.shape(), device);
  const Tensor prior = on_device(random_floats(shape.numel(), 13), shape, device);
  Tensor d_x = prior.clone();
  max_pool2d_backward(d_y, argmax, options, d_x);

  for (MemoryFormat format : kOtherFormats) {
    SCOPED_TRACE(memory_format_name(format));
    Tensor y_blocked = poisoned(y.shape(), format, device), argmax_blocked;
    max_pool2d_forward(x.to_format(format), options, y_blocked, argmax_blocked);
    ASSERT_EQ(y_blocked.format(), format);
    EXPECT_TRUE(bitwise_equal(physical_floats(y_blocked), physical_floats(y.to_format(format))));
    EXPECT_EQ(argmax_blocked.to_vector<int32_t>(), argmax.to_vector<int32_t>());
    // Gradients in this format, and mixed: d_output nhwc into a d_input in this format.
    for (MemoryFormat d_y_format : {format, MemoryFormat::nhwc}) {
      Tensor d_x_blocked = prior.to_format(format);
      max_pool2d_backward(d_y.to_format(d_y_format), argmax_blocked, options, d_x_blocked);
      EXPECT_TRUE(
          bitwise_equal(physical_floats(d_x_blocked), physical_floats(d_x.to_format(format))));
    }
  }
}

TEST_P(PoolingLayer, GlobalAveragePoolBlockedFormatsMatchThePlainResult) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const Shape shape{2, 20, 7, 5};
  const Tensor x = on_device(random_floats(shape.numel(), 21), shape, device);
  Tensor y;
  global_average_pool_forward(x, y);
  const Tensor d_y = on_device(random_floats(y.numel(), 22), y.shape(), device);
  const Tensor prior = on_device(random_floats(shape.numel(), 23), shape, device);
  Tensor d_x = prior.clone();
  global_average_pool_backward(d_y, d_x);
  for (MemoryFormat format : kOtherFormats) {
    SCOPED_TRACE(memory_format_name(format));
    Tensor y_from_blocked;
    global_average_pool_forward(x.to_format(format), y_from_blocked);
    EXPECT_EQ(y_from_blocked.format(), MemoryFormat::plain);  // documented: always plain
    EXPECT_TRUE(bitwise_equal(host_floats(y_from_blocked), host_floats(y)));
    Tensor d_x_blocked = prior.to_format(format);
    global_average_pool_backward(d_y, d_x_blocked);
    EXPECT_TRUE(
        bitwise_equal(physical_floats(d_x_blocked), physical_floats(d_x.to_format(format))));
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, PoolingLayer, ::testing::ValuesIn(all_devices()),
                         device_test_name);

// The gathers write each element from one thread in a fixed order: the same bits at 1
// and 2 threads (sizes above the CPU launcher's serial threshold).
TEST(PoolingDeterminism, CpuResultsAreBitwiseIdenticalAtOneAndTwoThreads) {
  const Shape shape{2, 16, 64, 64};
  const Tensor x = on_device(random_floats(shape.numel(), 31), shape, Device::cpu);
  auto run = [&](int threads) {
    kernels::cpu::set_num_threads(threads);
    Tensor y, argmax, average;
    max_pool2d_forward(x, {3, 2, 1}, y, argmax);
    Tensor d_x = Tensor::zeros(shape, DType::float32, Device::cpu);
    max_pool2d_backward(on_device(random_floats(y.numel(), 32), y.shape(), Device::cpu), argmax,
                        {3, 2, 1}, d_x);
    global_average_pool_forward(x, average);
    global_average_pool_backward(
        on_device(random_floats(average.numel(), 33), average.shape(), Device::cpu), d_x);
    return std::vector<std::vector<float>>{host_floats(y), host_floats(d_x), host_floats(average)};
  };
  const int threads = kernels::cpu::num_threads();
  const auto one = run(1), two = run(2);
  kernels::cpu::set_num_threads(threads);
  for (size_t i = 0; i < one.size(); ++i)
    EXPECT_TRUE(bitwise_equal(two[i], one[i])) << "result " << i;
}

TEST(PoolingErrors, NameTheTensorAndWhatWasExpected) {
  Tensor y, argmax;
  const Tensor x = Tensor::zeros({1, 2, 5, 5});
  try {
    max_pool2d_forward(Tensor::zeros({3, 5, 5}), {}, y, argmax);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(
        error.what(),
        HasSubstr("max_pool2d: input must be 4-d (N, C, H, W), got float32[3, 5, 5] cpu plain"));
  }
  try {
    max_pool2d_forward(x, {3, 2, 2}, y, argmax);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("padding must be in [0, kernel_size / 2], got padding=2"));
  }
  try {
    max_pool2d_forward(Tensor::zeros({1, 1, 2, 2}), {3, 1, 0}, y, argmax);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("is too small for kernel_size=3"));
  }
  max_pool2d_forward(x, {}, y, argmax);
  Tensor d_x = Tensor::zeros({1, 2, 5, 5});
  try {
    max_pool2d_backward(y, Tensor::zeros({1, 2, 3, 3}), {}, d_x);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("argmax must be int32[1, 2, 3, 3] cpu plain, got float32"));
  }
  try {
    max_pool2d_backward(Tensor::zeros({1, 2, 4, 3}), argmax, {}, d_x);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("d_output must have shape [1, 2, 3, 3]"));
  }
  Tensor undefined;
  EXPECT_THROW(max_pool2d_backward(y, argmax, {}, undefined), Error);
  try {
    global_average_pool_forward(Tensor::zeros({1, 2, 0, 3}), y);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("global_average_pool: input must have H, W > 0"));
  }
  try {
    global_average_pool_backward(Tensor::zeros({1, 2}), d_x);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(),
                HasSubstr("d_output must be float32[1, 2, 1, 1] plain, got float32[1, 2]"));
  }
}

}  // namespace
}  // namespace wise::testing
