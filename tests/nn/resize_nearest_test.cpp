// Nearest resizing to a size (nn/resize_nearest.h): the backward gather's index range
// against an exhaustive search, a hand-computed example, gradients by finite
// differences, blocked formats against the plain result, and named errors. Parity with
// torch's F.interpolate(size=..., mode="nearest"): tests/models/fpn_parity_test.cpp
// (the fixture family fpn, whose top-down path this is).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "kernels/resize_nearest.h"
#include "nn/resize_nearest.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/errors.h"
#include "tests/support/gradient_checker.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using ::testing::HasSubstr;

// The backward gather scans nearest_backward_range(i) for the outputs mapped to input i;
// an output outside it would silently lose its gradient. Exhaustively over small sizes,
// and for large ResNet-like sizes (in = ceil(out / 2)), where float rounding bites first.
TEST(ResizeNearestBackwardRange, ContainsEveryOutputMappedToTheInput) {
  auto check = [](int64_t in, int64_t out) {
    const float scale = kernels::nearest_scale(in, out);
    for (int64_t dst = 0; dst < out; ++dst) {
      const int64_t i = kernels::nearest_source_index(dst, scale, in);
      ASSERT_TRUE(i >= 0 && i < in) << "in " << in << " out " << out << " dst " << dst;
      const kernels::NearestRange range = kernels::nearest_backward_range(i, in, out);
      ASSERT_TRUE(dst >= range.begin && dst < range.end)
          << "in " << in << " out " << out << ": output " << dst << " maps to input " << i << " outside ["
          << range.begin << ", " << range.end << ")";
    }
  };
  for (int64_t in = 1; in <= 40; ++in) {
    for (int64_t out = 1; out <= 96; ++out) check(in, out);
  }
  for (int64_t out = 1000; out <= 1400; ++out) check((out + 1) / 2, out);
}

// For FPN's sizes (in = ceil(out / 2)) the map is dst / 2 (kernels/resize_nearest.h).
TEST(ResizeNearestIndex, IsHalvingForAResNetsSizes) {
  for (int64_t out = 1; out <= 2000; ++out) {
    const int64_t in = (out + 1) / 2;
    const float scale = kernels::nearest_scale(in, out);
    for (int64_t dst = 0; dst < out; ++dst) {
      ASSERT_EQ(kernels::nearest_source_index(dst, scale, in), dst / 2) << "in " << in << " out " << out;
    }
  }
}

class ResizeNearestLayer : public ::testing::TestWithParam<Device> {};

// 2 x 3 -> 3 x 5: rows floor(dst * 2/3) = [0, 0, 1], columns floor(dst * 3/5) = [0, 0, 1, 1, 2].
TEST_P(ResizeNearestLayer, HandComputedExample) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  Tensor y;
  resize_nearest_forward(on_device(std::vector<float>{1, 2, 3, 4, 5, 6}, {1, 1, 2, 3}, device), {3, 5}, y);
  EXPECT_TRUE(all_close(host_floats(y), {1, 1, 2, 2, 3, 1, 1, 2, 2, 3, 4, 4, 5, 5, 6}, kExact));
  // Backward: each input sums its children; d_x starts at 100 (gradients accumulate).
  std::vector<float> d_y(15);
  for (size_t k = 0; k < d_y.size(); ++k) d_y[k] = static_cast<float>(k + 1);
  Tensor d_x = on_device(std::vector<float>(6, 100.0f), {1, 1, 2, 3}, device);
  resize_nearest_backward(on_device(d_y, {1, 1, 3, 5}, device), d_x);
  // Input (0, 0): outputs (0..1, 0..1) = 1 + 2 + 6 + 7; (0, 1): (0..1, 2..3) = 3 + 4 + 8 + 9;
  // (0, 2): 5 + 10; (1, 0): 11 + 12; (1, 1): 13 + 14; (1, 2): 15.
  EXPECT_TRUE(all_close(host_floats(d_x), {116, 124, 115, 123, 127, 115}, kExact));
}

TEST_P(ResizeNearestLayer, GradientsMatchFiniteDifferences) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  GradientCheckOptions options;
  options.seed = seed_from_name("ResizeNearestLayer.GradientsMatchFiniteDifferences");
  const Shape shapes[][2] = {{{2, 3, 4, 5}, {7, 9}}, {{1, 2, 9, 7}, {4, 3}}, {{1, 2, 3, 3}, {3, 3}}};
  for (const auto& [shape, size] : shapes) {
    SCOPED_TRACE(::testing::Message() << shape << " to " << size[0] << "x" << size[1]);
    DifferentiableOp op;
    op.name = "resize_nearest";
    op.inputs = {on_device(random_floats(shape.numel(), options.seed), shape, device)};
    const ResizeNearestOptions resize{size[0], size[1]};
    op.forward = [resize](const std::vector<Tensor>& in, uint64_t) {
      Tensor y;
      resize_nearest_forward(in[0], resize, y);
      return std::vector<Tensor>{y};
    };
    op.backward = [](const std::vector<Tensor>&, const std::vector<Tensor>&, const std::vector<Tensor>& d_out,
                     std::vector<Tensor>& d_in, uint64_t) { resize_nearest_backward(d_out[0], d_in[0]); };
    EXPECT_TRUE(gradients_match(check_gradients(op, options)));
  }
}

// Every format, for input, output and gradients independently, gives the plain result
// bit for bit; a reused output keeps its format and gets zeros in its padding channels.
TEST_P(ResizeNearestLayer, BlockedFormatsMatchThePlainResult) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const Shape shape{2, 20, 5, 4};  // 20 channels: padding in both blocked formats
  const Tensor x = on_device(random_floats(shape.numel(), 11), shape, device);
  const ResizeNearestOptions size{9, 7};
  Tensor plain_y;
  resize_nearest_forward(x, size, plain_y);
  const Tensor d_y = on_device(random_floats(plain_y.numel(), 12), plain_y.shape(), device);
  Tensor plain_d_x = Tensor::zeros(shape, DType::float32, device);
  resize_nearest_backward(d_y, plain_d_x);
  for (const MemoryFormat format : {MemoryFormat::nhwc, MemoryFormat::nchw8c, MemoryFormat::nchw16c}) {
    SCOPED_TRACE(kernels::memory_format_name(format));
    Tensor y = Tensor::empty(plain_y.shape(), DType::float32, device, format);
    y.fill(1.0f);  // padding included: must come back zero
    resize_nearest_forward(x.to_format(MemoryFormat::nchw8c), size, y);
    EXPECT_EQ(y.format(), format);
    EXPECT_TRUE(bitwise_equal(host_floats(y), host_floats(plain_y)));
    EXPECT_TRUE(bitwise_equal(physical_floats(y), physical_floats(plain_y.to_format(format))));
    Tensor d_x = Tensor::zeros(shape, DType::float32, device, format);
    resize_nearest_backward(d_y.to_format(MemoryFormat::nchw16c), d_x);
    EXPECT_TRUE(bitwise_equal(host_floats(d_x), host_floats(plain_d_x)));
  }
  // An output of another shape is replaced, in the input's format.
  Tensor wrong = Tensor::zeros({1, 1, 1, 1});
  resize_nearest_forward(x.to_format(MemoryFormat::nhwc), size, wrong);
  EXPECT_EQ(wrong.format(), MemoryFormat::nhwc);
  EXPECT_EQ(wrong.shape(), plain_y.shape());
}

TEST_P(ResizeNearestLayer, BadInputsAreNamedErrors) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  Tensor y;
  EXPECT_THAT(error_of([&] { resize_nearest_forward(Tensor::zeros({2, 3}).to(device), {2, 2}, y); }),
              HasSubstr("resize_nearest: input must be 4-d (N, C, H, W), got float32[2, 3]"));
  EXPECT_THAT(error_of([&] { resize_nearest_forward(Tensor::zeros({1, 1, 2, 2}).to(device), {0, 2}, y); }),
              HasSubstr("resize_nearest: output size must be > 0, got 0x2"));
  Tensor d_x = Tensor::zeros({1, 2, 2, 2}).to(device);
  EXPECT_THAT(error_of([&] { resize_nearest_backward(Tensor::zeros({1, 3, 4, 4}).to(device), d_x); }),
              HasSubstr("must have d_input's N and C ([1, 2, 2, 2])"));
}

INSTANTIATE_TEST_SUITE_P(Devices, ResizeNearestLayer, ::testing::ValuesIn(all_devices()), device_test_name);

}  // namespace
}  // namespace wise::testing
