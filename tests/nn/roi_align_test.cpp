// RoIAlign layers (nn/roi_align.h): a hand-computed example, gradients by finite
// differences, bitwise 1-vs-2-thread backward, empty / outside / degenerate / non-finite
// RoIs, and named errors. Reference rows: tests/op_table/roi_align_cases.cpp; torchvision
// parity: tests/fixtures/roi_align_parity_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/cpu/parallel_for.h"
#include "nn/roi_align.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/gradient_checker.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using ::testing::HasSubstr;

const float kNaN = std::numeric_limits<float>::quiet_NaN();
const float kInf = std::numeric_limits<float>::infinity();

class RoiAlignLayer : public ::testing::TestWithParam<Device> {};

// A 5 x 5 input holding 0..24 (value(h, w) = 5 h + w), one RoI (0, x1=1, y1=0.5, x2=4,
// y2=2.5), spatial_scale 1, aligned, 2 x 2 output, sampling_ratio 1 (one sample per bin).
//   aligned: start = (1 - 0.5, 0.5 - 0.5) = (x 0.5, y 0), size 3 wide x 2 high,
//   bins 1.5 wide x 1 high, one sample at each bin's centre:
//     y = 0 + ph * 1 + 0.5 = 0.5, 1.5;   x = 0.5 + pw * 1.5 + 0.75 = 1.25, 2.75.
//   Bin (0, 0), sample (y 0.5, x 1.25): y_low 0, x_low 1, ly 0.5, lx 0.25,
//     weights w1 = 0.5 * 0.75 = 0.375 (0,1), w2 = 0.5 * 0.25 = 0.125 (0,2),
//             w3 = 0.375 (1,1), w4 = 0.125 (1,2):
//     0.375 * 1 + 0.125 * 2 + 0.375 * 6 + 0.125 * 7 = 3.75 (= 5 y + x: bilinear
//     interpolation of a linear ramp is exact).
//   The others: (0, 1) at (0.5, 2.75) = 5.25, (1, 0) at (1.5, 1.25) = 8.75,
//     (1, 1) at (1.5, 2.75) = 10.25.
// Backward with d_output = 1 everywhere adds each sample's four weights to its taps:
//   (0.5, 1.25): (0,1) .375 (0,2) .125 (1,1) .375 (1,2) .125
//   (0.5, 2.75): (0,2) .125 (0,3) .375 (1,2) .125 (1,3) .375
//   (1.5, 1.25): (1,1) .375 (1,2) .125 (2,1) .375 (2,2) .125
//   (1.5, 2.75): (1,2) .125 (1,3) .375 (2,2) .125 (2,3) .375
// so rows 0 and 2 get [0, .375, .25, .375, 0] and row 1 [0, .75, .5, .75, 0].
TEST_P(RoiAlignLayer, HandComputedFiveByFiveExample) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  std::vector<float> values(25);
  std::iota(values.begin(), values.end(), 0.0f);
  const Tensor rois = on_device(std::vector<float>{0, 1, 0.5f, 4, 2.5f}, {1, 5}, device);
  const RoiAlignOptions options{2, 2, 1.0f, 1, true};
  Tensor output;
  roi_align_forward(on_device(values, {1, 1, 5, 5}, device), rois, options, output);
  ASSERT_EQ(output.shape(), Shape({1, 1, 2, 2}));
  EXPECT_TRUE(all_close(host_floats(output), {3.75, 5.25, 8.75, 10.25}, kExact));

  Tensor d_input = Tensor::zeros({1, 1, 5, 5}, DType::float32, device);
  roi_align_backward(on_device(std::vector<float>(4, 1.0f), {1, 1, 2, 2}, device), rois, options,
                     d_input);
  const std::vector<double> outer{0, .375, .25, .375, 0}, middle{0, .75, .5, .75, 0}, zero(5, 0.0);
  std::vector<double> expected;
  for (const auto* row : {&outer, &middle, &outer, &zero, &zero})
    expected.insert(expected.end(), row->begin(), row->end());
  EXPECT_TRUE(all_close(host_floats(d_input), expected, kExact));
}

// RoIs are constants to the layer (torchvision gives no box gradient): only the input is
// checked. RoIAlign is linear in its input, so central differences are exact up to
// float rounding.
DifferentiableOp roi_align_op(Device device, const Shape& shape, const std::vector<float>& rois,
                              const RoiAlignOptions& options, uint64_t seed) {
  DifferentiableOp op;
  op.name = "roi_align";
  op.inputs = {on_device(random_floats(shape.numel(), seed), shape, device)};
  const int64_t K = static_cast<int64_t>(rois.size()) / 5;
  const Tensor roi_tensor = on_device(rois, {K, 5}, device);
  op.forward = [roi_tensor, options](const std::vector<Tensor>& in, uint64_t) {
    Tensor y;
    roi_align_forward(in[0], roi_tensor, options, y);
    return std::vector<Tensor>{y};
  };
  op.backward = [roi_tensor, options](const std::vector<Tensor>&, const std::vector<Tensor>&,
                                      const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in,
                                      uint64_t) {
    roi_align_backward(d_out[0], roi_tensor, options, d_in[0]);
  };
  return op;
}

TEST_P(RoiAlignLayer, GradientsMatchFiniteDifferences) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  GradientCheckOptions check;
  check.seed = seed_from_name("RoiAlignLayer.GradientsMatchFiniteDifferences");
  // Inside, partly outside, tiny, and on image 1.
  const std::vector<float> rois{0, 2,  3,  20,    25, 1, -6, -4, 14, 10,
                                0, 10, 10, 10.5f, 11, 1, 30, 2,  44, 30};
  for (const bool aligned : {true, false}) {
    for (const int64_t sampling_ratio : {int64_t{2}, int64_t{0}}) {
      SCOPED_TRACE(std::string(aligned ? "aligned" : "legacy") + " sampling " +
                   std::to_string(sampling_ratio));
      const RoiAlignOptions options{7, 7, 0.25f, sampling_ratio, aligned};
      EXPECT_TRUE(gradients_match(
          check_gradients(roi_align_op(device, {2, 2, 9, 11}, rois, options, 1), check)));
    }
  }
}

TEST_P(RoiAlignLayer, MultiScaleGradientsMatchFiniteDifferences) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  GradientCheckOptions check;
  check.seed = seed_from_name("RoiAlignLayer.MultiScaleGradientsMatchFiniteDifferences");
  // A 128 x 96 image; sides 30, 150, 300, 500 land on P2, P3, P4, P5.
  const std::vector<float> rois{0, 10,  20,  40,  50,  1, 0,    0,    150, 150,
                                0, -50, -40, 250, 260, 1, -200, -200, 300, 300};
  const Tensor roi_tensor = on_device(rois, {4, 5}, device);
  const MultiScaleRoiAlignOptions options;
  DifferentiableOp op;
  op.name = "multi_scale_roi_align";
  for (int level = 2; level <= 5; ++level) {
    const Shape shape{2, 2, 128 >> level, 96 >> level};
    op.inputs.push_back(on_device(random_floats(shape.numel(), 10 + level), shape, device));
  }
  op.forward = [roi_tensor, options](const std::vector<Tensor>& in, uint64_t) {
    Tensor y;
    multi_scale_roi_align_forward(in, roi_tensor, options, y);
    return std::vector<Tensor>{y};
  };
  op.backward = [roi_tensor, options](const std::vector<Tensor>&, const std::vector<Tensor>&,
                                      const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in,
                                      uint64_t) {
    multi_scale_roi_align_backward(d_out[0], roi_tensor, options, d_in);
  };
  EXPECT_TRUE(gradients_match(check_gradients(op, check)));
}

// Zero RoIs: an empty output and a backward that adds nothing.
TEST_P(RoiAlignLayer, ZeroRoisGiveAnEmptyOutput) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const Tensor x = on_device(random_floats(2 * 3 * 6 * 6, 3), {2, 3, 6, 6}, device);
  const Tensor rois = Tensor::zeros({0, 5}, DType::float32, device);
  Tensor y;
  roi_align_forward(x, rois, {7, 7, 1.0f, 2, true}, y);
  EXPECT_EQ(y.shape(), Shape({0, 3, 7, 7}));
  Tensor d_x = x.clone();
  roi_align_backward(Tensor::zeros({0, 3, 7, 7}, DType::float32, device), rois,
                     {7, 7, 1.0f, 2, true}, d_x);
  EXPECT_TRUE(bitwise_equal(host_floats(d_x), host_floats(x)));
  std::vector<Tensor> features{x, on_device(random_floats(2 * 3 * 3 * 3, 4), {2, 3, 3, 3}, device)};
  MultiScaleRoiAlignOptions two_levels;
  two_levels.spatial_scales = {0.25f, 0.125f};
  multi_scale_roi_align_forward(features, rois, two_levels, y);
  EXPECT_EQ(y.shape(), Shape({0, 3, 7, 7}));
}

// RoIs fully outside, non-finite, or with a batch index out of range, and (adaptive
// sampling only) zero-area or inverted ones: no crash, no NaN, output 0, no gradient.
// torchvision 0.14 gives the same 0 for all of these with adaptive sampling; with
// sampling_ratio > 0 it segfaults on NaN and infinite boxes (checked with torchvision
// 0.14.1), where we give 0.
TEST_P(RoiAlignLayer, OutsideAndNonFiniteRoisGiveZero) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const std::vector<float> always_zero{
      0,    -20,   -20,   -5,   -5,    // fully outside (above left)
      1,    30,    30,    40,   40,    // fully outside (below right)
      0,    kNaN,  1,     3,    3,     // NaN
      1,    kNaN,  kNaN,  kNaN, kNaN,  // all NaN
      0,    1,     1,     kInf, 3,     // infinite
      0,    -kInf, -kInf, kInf, kInf,  // infinite both ways
      2,    1,     1,     4,    4,     // batch index out of range
      kNaN, 1,     1,     4,    4,     // NaN batch index
  };
  std::vector<float> adaptive_zero = always_zero;
  adaptive_zero.insert(adaptive_zero.end(), {0, 3, 3, 3, 3,    // zero area: no samples
                                             0, 4, 4, 2, 2});  // inverted: no samples
  const Tensor x = on_device(random_floats(2 * 2 * 6 * 6, 5), {2, 2, 6, 6}, device);
  for (const int64_t sampling_ratio : {int64_t{2}, int64_t{0}}) {
    const auto& rois = sampling_ratio > 0 ? always_zero : adaptive_zero;
    const int64_t K = static_cast<int64_t>(rois.size()) / 5;
    const Tensor roi_tensor = on_device(rois, {K, 5}, device);
    const RoiAlignOptions options{3, 3, 1.0f, sampling_ratio, true};
    Tensor y;
    roi_align_forward(x, roi_tensor, options, y);
    EXPECT_TRUE(
        all_close(host_floats(y), std::vector<double>(static_cast<size_t>(y.numel()), 0.0), kExact))
        << "sampling_ratio " << sampling_ratio;
    Tensor d_x = x.clone();
    roi_align_backward(on_device(random_floats(y.numel(), 6), y.shape(), device), roi_tensor,
                       options, d_x);
    EXPECT_TRUE(bitwise_equal(host_floats(d_x), host_floats(x)));
  }
}

// Degenerate boxes with a fixed sampling_ratio still sample (torchvision does): values
// printed by torchvision 0.14.1 for an input arange(36) of shape (1, 1, 6, 6), 2 x 2
// output, spatial_scale 1, sampling_ratio 2, and by adaptive sampling (0 when aligned:
// no samples; legacy boxes are at least 1 x 1).
TEST_P(RoiAlignLayer, DegenerateBoxesMatchTorchvision) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  std::vector<float> values(36);
  std::iota(values.begin(), values.end(), 0.0f);
  const Tensor x = on_device(values, {1, 1, 6, 6}, device);
  struct Row {
    std::vector<float> roi;
    int64_t sampling_ratio;
    bool aligned;
    std::vector<double> expected;
  };
  const Row rows[] = {
      {{0, 1, 1, 1, 1}, 2, true, {3.5, 3.5, 3.5, 3.5}},
      {{0, 1, 1, 1, 1}, 2, false, {8.75, 9.25, 11.75, 12.25}},
      {{0, 1, 1, 1, 1}, -1, true, {0, 0, 0, 0}},
      {{0, 1, 1, 1, 1}, -1, false, {8.75, 9.25, 11.75, 12.25}},
      {{0, 3, 3, 1, 1}, 2, true, {14, 13, 8, 7}},
      {{0, 3, 3, 1, 1}, 2, false, {22.75, 23.25, 25.75, 26.25}},
      {{0, 3, 3, 1, 1}, -1, true, {0, 0, 0, 0}},
  };
  for (const Row& row : rows) {
    Tensor y;
    roi_align_forward(x, on_device(row.roi, {1, 5}, device),
                      {2, 2, 1.0f, row.sampling_ratio, row.aligned}, y);
    EXPECT_TRUE(all_close(host_floats(y), row.expected, {1e-6, 1e-5}))
        << row.roi[1] << "," << row.roi[2] << "," << row.roi[3] << "," << row.roi[4] << " sampling "
        << row.sampling_ratio << (row.aligned ? " aligned" : " legacy");
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, RoiAlignLayer, ::testing::ValuesIn(all_devices()),
                         device_test_name);

// The CPU backward partitions d_input by (level, image, channel) plane and visits RoIs in
// order: the same bits at 1 and 2 threads (sizes above the launcher's serial threshold).
TEST(RoiAlignDeterminism, CpuBackwardIsBitwiseIdenticalAtOneAndTwoThreads) {
  const int64_t N = 2, C = 16, K = 40;
  std::vector<float> rois;
  const auto corners = random_floats(4 * K, 61, -20.0f, 120.0f);
  for (int64_t k = 0; k < K; ++k) {
    const float* c = &corners[static_cast<size_t>(4 * k)];
    rois.insert(rois.end(), {float(k % N), std::min(c[0], c[2]), std::min(c[1], c[3]),
                             std::max(c[0], c[2]), std::max(c[1], c[3])});
  }
  const Tensor roi_tensor = on_device(rois, {K, 5}, Device::cpu);
  const RoiAlignOptions options{7, 7, 0.25f, 2, false};
  MultiScaleRoiAlignOptions multi;
  multi.spatial_scales = {0.25f, 0.125f};
  const Tensor d_y = on_device(random_floats(K * C * 49, 62), {K, C, 7, 7}, Device::cpu);
  auto run = [&](int threads) {
    kernels::cpu::set_num_threads(threads);
    Tensor d_x = Tensor::zeros({N, C, 24, 20}, DType::float32, Device::cpu);
    roi_align_backward(d_y, roi_tensor, options, d_x);
    std::vector<Tensor> d_levels{Tensor::zeros({N, C, 24, 20}), Tensor::zeros({N, C, 12, 10})};
    multi_scale_roi_align_backward(d_y, roi_tensor, multi, d_levels);
    return std::vector<std::vector<float>>{host_floats(d_x), host_floats(d_levels[0]),
                                           host_floats(d_levels[1])};
  };
  const int threads = kernels::cpu::num_threads();
  const auto one = run(1), two = run(2);
  kernels::cpu::set_num_threads(threads);
  for (size_t i = 0; i < one.size(); ++i)
    EXPECT_TRUE(bitwise_equal(two[i], one[i])) << "result " << i;
}

TEST(RoiAlignErrors, NameTheTensorAndWhatWasExpected) {
  Tensor y;
  const Tensor x = Tensor::zeros({1, 2, 5, 5});
  try {
    roi_align_forward(x, Tensor::zeros({3, 4}), {}, y);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("roi_align: rois must have shape [K, 5] (batch_index, x1, "
                                        "y1, x2, y2), got float32[3, 4] cpu plain"));
  }
  try {
    roi_align_forward(Tensor::zeros({2, 5, 5}), Tensor::zeros({3, 5}), {}, y);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("roi_align: input must be 4-d (N, C, H, W)"));
  }
  Tensor d_x = Tensor::zeros({1, 2, 5, 5});
  try {
    roi_align_backward(Tensor::zeros({3, 2, 7, 6}), Tensor::zeros({3, 5}), {}, d_x);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(),
                HasSubstr("roi_align_backward: d_output must have shape [3, 2, 7, 7]"));
  }
  MultiScaleRoiAlignOptions options;
  options.spatial_scales = {0.25f, 0.1f};
  try {
    multi_scale_roi_align_forward({x, x}, Tensor::zeros({3, 5}), options, y);
    FAIL() << "no error";
  } catch (const Error& error) {
    EXPECT_THAT(error.what(), HasSubstr("spatial_scales must be consecutive powers of two"));
  }
}

}  // namespace
}  // namespace wise::testing
