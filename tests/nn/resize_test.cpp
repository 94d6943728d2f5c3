// Resizing layers (nn/resize.h): hand-computed examples, the backward gather's index
// range against an exhaustive search, gradients by finite differences, blocked memory
// formats against the plain result, determinism across thread counts, and named errors.
// The reference rows are in tests/op_table/resize_cases.cpp, torch parity in
// tests/fixtures/resize_parity_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <limits>
#include <numeric>

#include "kernels/cpu/parallel_for.h"
#include "kernels/elementwise.h"
#include "kernels/resize.h"
#include "nn/resize.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/gradient_checker.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using ::testing::HasSubstr;

// A buffer filled with NaN, padding included: the layer must overwrite every element.
Tensor poisoned(const Shape& shape, MemoryFormat format, Device device) {
  Tensor tensor = Tensor::empty(shape, DType::float32, device, format);
  kernels::fill(device, tensor.data<float>(), std::numeric_limits<float>::quiet_NaN(),
                tensor.physical_numel());
  return tensor;
}

const MemoryFormat kOtherFormats[] = {MemoryFormat::nhwc, MemoryFormat::nchw8c,
                                      MemoryFormat::nchw16c};

// The backward gather scans bilinear_backward_range(i) for the outputs whose taps
// include input i; an output outside it would silently lose its gradient. Exhaustively:
// every tapping output lies inside the range, for all small sizes, both maps.
TEST(ResizeBilinearBackwardRange, ContainsEveryOutputThatTapsTheInput) {
  for (const bool align_corners : {false, true}) {
    for (int64_t in = 1; in <= 40; ++in) {
      for (int64_t out = 1; out <= 96; ++out) {
        const float scale = kernels::bilinear_scale(in, out, align_corners);
        for (int64_t i = 0; i < in; ++i) {
          const kernels::IndexRange range =
              kernels::bilinear_backward_range(i, in, out, align_corners);
          for (int64_t dst = 0; dst < out; ++dst) {
            const kernels::BilinearTaps taps =
                kernels::bilinear_taps(dst, scale, in, align_corners);
            if (taps.index0 != i && taps.index1 != i) continue;
            ASSERT_TRUE(dst >= range.begin && dst < range.end)
                << "in " << in << " out " << out << " align_corners " << align_corners
                << ": output " << dst << " taps input " << i << " outside [" << range.begin << ", "
                << range.end << ")";
          }
        }
      }
    }
  }
}

class ResizeLayer : public ::testing::TestWithParam<Device> {};

TEST_P(ResizeLayer, BilinearBackwardPropagatesNaNToEveryTapLikeTorch) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  // 2 x 3 -> 10 x 10, half-pixel: output (0, 0) clamps to src (0, 0) and taps inputs
  // (0..1, 0..1), rows and columns 1 with weight 0. torch 1.13 still adds 0 * NaN there:
  // d_x = [[nan, nan, 0], [nan, nan, 0]].
  std::vector<float> d_y(100, 0.0f);
  d_y[0] = std::numeric_limits<float>::quiet_NaN();
  Tensor d_x = Tensor::zeros({1, 1, 2, 3}, DType::float32, device);
  resize_bilinear_backward(on_device(d_y, {1, 1, 10, 10}, device), {10, 10, false}, d_x);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(all_close(host_floats(d_x), {nan, nan, 0, nan, nan, 0}, kExact));
}

TEST_P(ResizeLayer, NearestHandComputedExample) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  Tensor y;
  upsample_nearest2x_forward(on_device(std::vector<float>{1, 2, 3, 4}, {1, 1, 2, 2}, device), y);
  EXPECT_TRUE(all_close(host_floats(y), {1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}, kExact));
  std::vector<float> d_y(16);
  std::iota(d_y.begin(), d_y.end(), 0.0f);  // row-major 0..15
  Tensor d_x = on_device(std::vector<float>(4, 1.0f), {1, 1, 2, 2}, device);
  upsample_nearest2x_backward(on_device(d_y, {1, 1, 4, 4}, device), d_x);
  // Children of (0, 0): 0, 1, 4, 5; of (0, 1): 2, 3, 6, 7; ... plus the prior 1.
  EXPECT_TRUE(all_close(host_floats(d_x), {1 + 10, 1 + 18, 1 + 42, 1 + 50}, kExact));
}

TEST_P(ResizeLayer, BilinearHandComputedExamples) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const Tensor x = on_device(std::vector<float>{0, 4, 8, 12}, {1, 1, 2, 2}, device);
  // align_corners=True, 2 -> 3: src = dst / 2, corners kept, midpoints averaged.
  Tensor y;
  resize_bilinear_forward(x, {3, 3, true}, y);
  EXPECT_TRUE(all_close(host_floats(y), {0, 2, 4, 4, 6, 8, 8, 10, 12}, kExact));
  // Its transpose on ones: each input receives the sum of its weights, 9 / 4 by symmetry.
  Tensor d_x = Tensor::zeros({1, 1, 2, 2}, DType::float32, device);
  resize_bilinear_backward(on_device(std::vector<float>(9, 1.0f), {1, 1, 3, 3}, device),
                           {3, 3, true}, d_x);
  EXPECT_TRUE(all_close(host_floats(d_x), {2.25, 2.25, 2.25, 2.25}, kExact));
  // align_corners=False, 2 -> 4: src = max(dst / 2 - 1/4, 0) = 0, 0.25, 0.75, 1.25 (the
  // last clamps to index 1), so along an axis [a, b] -> [a, (3a + b) / 4, (a + 3b) / 4, b].
  resize_bilinear_forward(x, {4, 4, false}, y);
  EXPECT_TRUE(
      all_close(host_floats(y), {0, 1, 3, 4, 2, 3, 5, 6, 6, 7, 9, 10, 8, 9, 11, 12}, kExact));
}

DifferentiableOp bilinear_op(Device device, const Shape& shape, ResizeBilinearOptions options,
                             uint64_t seed) {
  DifferentiableOp op;
  op.name = "resize_bilinear";
  op.inputs = {on_device(random_floats(shape.numel(), seed), shape, device)};
  op.forward = [options](const std::vector<Tensor>& in, uint64_t) {
    Tensor y;
    resize_bilinear_forward(in[0], options, y);
    return std::vector<Tensor>{y};
  };
  op.backward = [options](const std::vector<Tensor>&, const std::vector<Tensor>&,
                          const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    resize_bilinear_backward(d_out[0], options, d_in[0]);
  };
  return op;
}

TEST_P(ResizeLayer, GradientsMatchFiniteDifferences) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  GradientCheckOptions options;
  options.seed = seed_from_name("ResizeLayer.GradientsMatchFiniteDifferences");
  DifferentiableOp nearest;
  nearest.name = "upsample_nearest2x";
  nearest.inputs = {on_device(random_floats(2 * 3 * 4 * 5, 1), {2, 3, 4, 5}, device)};
  nearest.forward = [](const std::vector<Tensor>& in, uint64_t) {
    Tensor y;
    upsample_nearest2x_forward(in[0], y);
    return std::vector<Tensor>{y};
  };
  nearest.backward = [](const std::vector<Tensor>&, const std::vector<Tensor>&,
                        const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in, uint64_t) {
    upsample_nearest2x_backward(d_out[0], d_in[0]);
  };
  EXPECT_TRUE(gradients_match(check_gradients(nearest, options)));
  for (const bool align_corners : {false, true}) {
    SCOPED_TRACE(align_corners ? "align_corners" : "half-pixel");
    EXPECT_TRUE(gradients_match(
        check_gradients(bilinear_op(device, {2, 2, 5, 7}, {11, 16, align_corners}, 2), options)));
    EXPECT_TRUE(gradients_match(
        check_gradients(bilinear_op(device, {1, 2, 15, 9}, {4, 5, align_corners}, 3), options)));
    EXPECT_TRUE(gradients_match(
        check_gradients(bilinear_op(device, {1, 1, 3, 4}, {24, 32, align_corners}, 4), options)));
  }
}

// Resizes see blocked activations (FPN's lateral convolutions): every format, for input
// and gradients independently, gives the plain result bit for bit, padding zero.
TEST_P(ResizeLayer, BlockedFormatsMatchThePlainResult) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const Shape shape{2, 20, 5, 7};  // 20 channels: padding in both blocked formats
  const Tensor x = on_device(random_floats(shape.numel(), 41), shape, device);
  const Tensor prior = on_device(random_floats(shape.numel(), 42), shape, device);
  const ResizeBilinearOptions bilinear{9, 16, false};

  Tensor nearest_y, bilinear_y;
  upsample_nearest2x_forward(x, nearest_y);
  resize_bilinear_forward(x, bilinear, bilinear_y);
  const Tensor d_nearest =
      on_device(random_floats(nearest_y.numel(), 43), nearest_y.shape(), device);
  const Tensor d_bilinear =
      on_device(random_floats(bilinear_y.numel(), 44), bilinear_y.shape(), device);
  Tensor nearest_d_x = prior.clone(), bilinear_d_x = prior.clone();
  upsample_nearest2x_backward(d_nearest, nearest_d_x);
  resize_bilinear_backward(d_bilinear, bilinear, bilinear_d_x);

  for (MemoryFormat format : kOtherFormats) {
    SCOPED_TRACE(memory_format_name(format));
    const Tensor x_blocked = x.to_format(format);
    Tensor y = poisoned(nearest_y.shape(), format, device);
    upsample_nearest2x_forward(x_blocked, y);
    EXPECT_TRUE(bitwise_equal(physical_floats(y), physical_floats(nearest_y.to_format(format))));
    y = poisoned(bilinear_y.shape(), format, device);
    resize_bilinear_forward(x_blocked, bilinear, y);
    EXPECT_TRUE(bitwise_equal(physical_floats(y), physical_floats(bilinear_y.to_format(format))));
    // Gradients in this format, and mixed: d_output nhwc into a d_input in this format.
    for (MemoryFormat d_y_format : {format, MemoryFormat::nhwc}) {
      Tensor d_x = prior.to_format(format);
      upsample_nearest2x_backward(d_nearest.to_format(d_y_format), d_x);
      EXPECT_TRUE(
          bitwise_equal(physical_floats(d_x), physical_floats(nearest_d_x.to_format(format))));
      d_x = prior.to_format(format);
      resize_bilinear_backward(d_bilinear.to_format(d_y_format), bilinear, d_x);
      EXPECT_TRUE(
          bitwise_equal(physical_floats(d_x), physical_floats(bilinear_d_x.to_format(format))));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, ResizeLayer, ::testing::ValuesIn(all_devices()),
                         device_test_name);

// The gathers write each element from one thread in a fixed order: the same bits at 1
// and 2 threads (sizes above the CPU launcher's serial threshold).
TEST(ResizeDeterminism, CpuResultsAreBitwiseIdenticalAtOneAndTwoThreads) {
  const Shape shape{2, 16, 24, 20};
  const Tensor x = on_device(random_floats(shape.numel(), 51), shape, Device::cpu);
  const ResizeBilinearOptions cam{8 * 24, 8 * 20, true};
  auto run = [&](int threads) {
    kernels::cpu::set_num_threads(threads);
    Tensor nearest, bilinear;
    upsample_nearest2x_forward(x, nearest);
    resize_bilinear_forward(x, cam, bilinear);
    Tensor d_x = Tensor::zeros(shape, DType::float32, Device::cpu);
    upsample_nearest2x_backward(
        on_device(random_floats(nearest.numel(), 52), nearest.shape(), Device::cpu), d_x);
    resize_bilinear_backward(
        on_device(random_floats(bilinear.numel(), 53), bilinear.shape(), Device::cpu), cam, d_x);
    return std::vector<std::vector<float>>{host_floats(nearest), host_floats(bilinear),
                                           host_floats(d_x)};
  };
  const int threads = kernels::cpu::num_threads();
  const auto one = run(1), two = run(2);
  kernels::cpu::set_num_threads(threads);
  for (size_t i = 0; i < one.size(); ++i)
    EXPECT_TRUE(bitwise_equal(two[i], one[i])) << "result " << i;
}

TEST(ResizeOptions, UpsampleBilinearIsAResizeToFactorTimesTheSize) {
  const ResizeBilinearOptions options = upsample_bilinear_options({2, 20, 28, 35}, 8, true);
  EXPECT_EQ(options.output_height, 224);
  EXPECT_EQ(options.output_width, 280);
  EXPECT_TRUE(options.align_corners);
}

TEST(ResizeErrors, NameTheTensorAndWhatWasExpected) {
  Tensor y;
  try {
    upsample_nearest2x_forward(Tensor::zeros({4, 5}), y);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(
        error.what(),
        HasSubstr(
            "upsample_nearest2x: input must be 4-d (N, C, H, W), got float32[4, 5] cpu plain"));
  }
  Tensor d_x = Tensor::zeros({1, 2, 3, 4});
  try {
    upsample_nearest2x_backward(Tensor::zeros({1, 2, 6, 9}), d_x);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("d_output must have shape [1, 2, 6, 8]"));
  }
  try {
    resize_bilinear_forward(Tensor::zeros({1, 2, 3, 4}), {0, 5, false}, y);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("resize_bilinear: input and output sizes must be > 0"));
  }
  try {
    resize_bilinear_backward(Tensor::zeros({1, 2, 7, 7}), {7, 8, false}, d_x);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("d_output must have shape [1, 2, 7, 8]"));
  }
  try {
    resize_bilinear_forward(Tensor::zeros({1, 2, 3, 4}, DType::int32), {6, 8, false}, y);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("resize_bilinear: input must be float32"));
  }
}

}  // namespace
}  // namespace wise::testing
