// Peak stimulation layer (nn/peak_stimulation.h): hand-computed examples (ties, the
// thresholds, no peaks), the mean gradient by finite differences, determinism across
// thread counts, output reuse, feeding multilabel_soft_margin, and named errors. The
// reference rows are in tests/op_table/peak_cases.cpp, PRM parity in
// tests/fixtures/peak_parity_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "kernels/cpu/parallel_for.h"
#include "nn/losses.h"
#include "nn/peak_stimulation.h"
#include "tests/support/compare.h"
#include "tests/support/devices.h"
#include "tests/support/gradient_checker.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using ::testing::HasSubstr;

// Two 3 x 4 maps. Map 0: 5 is a peak; 6 appears twice in one window and only the first
// (row-major) is a peak; lower median 2 (sorted element 5 of 12). Map 1: peaks 9 and 1
// on a plateau of zeros (no zero is the first maximum of its window); median 0.
const std::vector<float> kMaps = {1, 3, 2, 0,  5, 4, 4, 1,  0, 2, 6, 6,
                                  0, 0, 0, 9,  0, 1, 0, 0,  0, 0, 0, 0};

struct Outputs {
  Tensor peaks, values, scores, mask, counts;
};

Outputs run_forward(const Tensor& maps, const PeakStimulationOptions& options) {
  Outputs out;
  peak_stimulation_forward(maps, options, out.peaks, out.values, out.scores, out.mask, out.counts);
  return out;
}

class PeakStimulationLayer : public ::testing::TestWithParam<Device> {};

TEST_P(PeakStimulationLayer, HandComputedExampleWithMedianThreshold) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const Tensor maps = on_device(kMaps, {1, 2, 3, 4}, device);
  PeakStimulationOptions options;
  const Outputs out = run_forward(maps, options);
  EXPECT_EQ(out.peaks.to_vector<int64_t>(),
            (std::vector<int64_t>{0, 0, 1, 0, 0, 0, 2, 2, 0, 1, 0, 3, 0, 1, 1, 1}));
  EXPECT_TRUE(all_close(host_floats(out.values), {5, 6, 9, 1}, kExact));
  EXPECT_TRUE(all_close(host_floats(out.scores), {5.5, 5}, kExact));
  EXPECT_EQ(out.counts.to_vector<int64_t>(), (std::vector<int64_t>{2, 2}));

  // PRM's backward copies d_score to each peak; the mean's divides it by the count.
  const Tensor d_scores = on_device(std::vector<float>{2, -4}, {1, 2}, device);
  for (const PeakGradient gradient : {PeakGradient::prm, PeakGradient::mean}) {
    options.gradient = gradient;
    const double share0 = gradient == PeakGradient::prm ? 2 : 1;
    const double share1 = gradient == PeakGradient::prm ? -4 : -2;
    Tensor d_maps = on_device(std::vector<float>(24, 1.0f), {1, 2, 3, 4}, device);
    peak_stimulation_backward(d_scores, out.mask, out.counts, options, d_maps);
    std::vector<double> expected(24, 1.0);
    expected[4] += share0;
    expected[10] += share0;
    expected[12 + 3] += share1;
    expected[12 + 5] += share1;
    EXPECT_TRUE(all_close(host_floats(d_maps), expected, kExact));
  }
}

TEST_P(PeakStimulationLayer, FixedThresholdsAndMapsWithoutPeaks) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const Tensor maps = on_device(kMaps, {1, 2, 3, 4}, device);
  PeakStimulationOptions options;
  options.threshold = PeakThreshold::fixed;
  options.threshold_value = 5.5f;  // keeps 6 of map 0 and 9 of map 1
  Outputs out = run_forward(maps, options);
  EXPECT_EQ(out.peaks.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 2, 2, 0, 1, 0, 3}));
  EXPECT_TRUE(all_close(host_floats(out.scores), {6, 9}, kExact));

  // No peak passes: an empty list, score 0 (defined; PRM's code would give NaN), and a
  // backward that adds nothing.
  options.threshold_value = 10.0f;
  out = run_forward(maps, options);
  EXPECT_EQ(out.peaks.shape(), Shape({0, 4}));
  EXPECT_EQ(out.values.shape(), Shape({0}));
  EXPECT_TRUE(all_close(host_floats(out.scores), {0, 0}, kExact));
  options.gradient = PeakGradient::mean;
  Tensor d_maps = on_device(std::vector<float>(24, 1.0f), {1, 2, 3, 4}, device);
  peak_stimulation_backward(on_device(std::vector<float>{1, 1}, {1, 2}, device), out.mask,
                            out.counts, options, d_maps);
  EXPECT_TRUE(all_close(host_floats(d_maps), std::vector<double>(24, 1.0), kExact));

  // No filter: every first maximum of its window, here the same four peaks as the median.
  options.threshold = PeakThreshold::none;
  out = run_forward(maps, options);
  EXPECT_EQ(out.counts.to_vector<int64_t>(), (std::vector<int64_t>{2, 2}));
}


TEST_P(PeakStimulationLayer, FractionOfTheMaximumKeepsStrongPeaksOnly) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  PeakStimulationOptions options;
  options.threshold = PeakThreshold::fraction_of_max;
  options.threshold_value = 0.8f;  // map 0: >= 4.8 keeps 5 and 6; map 1: >= 7.2 keeps 9 only
  Outputs out = run_forward(on_device(kMaps, {1, 2, 3, 4}, device), options);
  EXPECT_EQ(out.peaks.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 1, 0, 0, 0, 2, 2, 0, 1, 0, 3}));
  EXPECT_TRUE(all_close(host_floats(out.scores), {5.5, 9}, kExact));

  // Maps whose maximum is negative (kMaps - 10: maxima -4 and -1): 0.8 x the maximum would
  // lie above it; the maximum itself is the threshold, so each keeps its first maximum.
  std::vector<float> shifted = kMaps;
  for (float& value : shifted) value -= 10.0f;
  out = run_forward(on_device(shifted, {1, 2, 3, 4}, device), options);
  EXPECT_EQ(out.peaks.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 2, 2, 0, 1, 0, 3}));
  EXPECT_TRUE(all_close(host_floats(out.scores), {-4, -1}, kExact));
}
TEST_P(PeakStimulationLayer, ReusesOrReplacesOutputsAsKChanges) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  PeakStimulationOptions options;
  Outputs out = run_forward(on_device(kMaps, {1, 2, 3, 4}, device), options);
  // A constant map: only its first element is the first maximum of its window.
  const Outputs constant = run_forward(on_device(std::vector<float>(20, 0.5f), {1, 1, 4, 5},
                                                 device), options);
  peak_stimulation_forward(on_device(std::vector<float>(20, 0.5f), {1, 1, 4, 5}, device), options,
                           out.peaks, out.values, out.scores, out.mask, out.counts);
  EXPECT_EQ(out.peaks.to_vector<int64_t>(), (std::vector<int64_t>{0, 0, 0, 0}));
  EXPECT_EQ(constant.peaks.to_vector<int64_t>(), out.peaks.to_vector<int64_t>());
  EXPECT_TRUE(all_close(host_floats(out.scores), {0.5}, kExact));
}

// Distinct values 0.05 apart, shuffled: a finite-difference step of 0.01 changes neither
// which elements are peaks nor which is the median.
std::vector<float> separated_values(int64_t n, uint64_t seed) {
  std::vector<float> values(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i)
    values[static_cast<size_t>(i)] = 0.05f * static_cast<float>(i - n / 2);
  std::mt19937_64 engine(seed);
  std::shuffle(values.begin(), values.end(), engine);
  return values;
}

TEST_P(PeakStimulationLayer, MeanGradientMatchesFiniteDifferences) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  for (const PeakThreshold threshold : {PeakThreshold::median, PeakThreshold::none}) {
    PeakStimulationOptions options;
    options.threshold = threshold;
    options.gradient = PeakGradient::mean;
    DifferentiableOp op;
    op.name = "peak_stimulation";
    op.inputs = {on_device(separated_values(2 * 3 * 5 * 6, 7), {2, 3, 5, 6}, device)};
    op.forward = [options](const std::vector<Tensor>& in, uint64_t) {
      return std::vector<Tensor>{run_forward(in[0], options).scores};
    };
    op.backward = [options](const std::vector<Tensor>& in, const std::vector<Tensor>&,
                            const std::vector<Tensor>& d_out, std::vector<Tensor>& d_in,
                            uint64_t) {
      const Outputs out = run_forward(in[0], options);
      peak_stimulation_backward(d_out[0], out.mask, out.counts, options, d_in[0]);
    };
    GradientCheckOptions check;
    check.seed = seed_from_name("PeakStimulationLayer.MeanGradientMatchesFiniteDifferences");
    EXPECT_TRUE(gradients_match(check_gradients(op, check)));
  }
}

// The class score is the logit of PRM's multilabel soft-margin loss: the loss's input
// gradient reaches exactly the peaks (PRM's backward: unchanged at each).
TEST_P(PeakStimulationLayer, ScoresFeedMultilabelSoftMargin) {
  const Device device = GetParam();
  WISE_SKIP_IF_UNAVAILABLE(device);
  const Shape shape{2, 20, 14, 14};
  const Tensor maps = on_device(random_floats(shape.numel(), 11), shape, device);
  PeakStimulationOptions options;
  const Outputs out = run_forward(maps, options);
  std::vector<float> labels(40, 0.0f);
  labels[3] = labels[20 + 14] = 1.0f;
  const Tensor target = on_device(labels, {2, 20}, device);
  Tensor loss;
  multilabel_soft_margin_forward(out.scores, target, Tensor(), {}, loss);
  Tensor d_scores = Tensor::zeros({2, 20}, DType::float32, device);
  multilabel_soft_margin_backward(on_device(std::vector<float>{1}, {1}, device), out.scores,
                                  target, Tensor(), {}, d_scores);
  Tensor d_maps = Tensor::zeros(shape, DType::float32, device);
  peak_stimulation_backward(d_scores, out.mask, out.counts, options, d_maps);
  const std::vector<float> d = host_floats(d_maps), d_score = host_floats(d_scores);
  const std::vector<uint8_t> mask = out.mask.to_vector<uint8_t>();
  for (int64_t i = 0; i < shape.numel(); ++i) {
    ASSERT_EQ(d[i], mask[i] ? d_score[i / (14 * 14)] : 0.0f) << "element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, PeakStimulationLayer, ::testing::ValuesIn(all_devices()),
                         device_test_name);

// Per-map threads and per-pixel gathers: the same bits at 1 and 2 threads (PRM's
// training maps and its x8-upsampled inference maps, above the serial threshold).
TEST(PeakStimulationDeterminism, CpuResultsAreBitwiseIdenticalAtOneAndTwoThreads) {
  for (const Shape& shape : {Shape{2, 20, 14, 14}, Shape{1, 4, 112, 112}}) {
    const Tensor maps = on_device(random_floats(shape.numel(), 41), shape, Device::cpu);
    const Tensor d_scores =
        on_device(random_floats(shape[0] * shape[1], 42), {shape[0], shape[1]}, Device::cpu);
    auto run = [&](int threads) {
      kernels::cpu::set_num_threads(threads);
      PeakStimulationOptions options;
      const Outputs out = run_forward(maps, options);
      Tensor d_prm = Tensor::zeros(shape, DType::float32, Device::cpu);
      peak_stimulation_backward(d_scores, out.mask, out.counts, options, d_prm);
      options.gradient = PeakGradient::mean;
      Tensor d_mean = Tensor::zeros(shape, DType::float32, Device::cpu);
      peak_stimulation_backward(d_scores, out.mask, out.counts, options, d_mean);
      return std::make_pair(out.peaks.to_vector<int64_t>(),
                            std::vector<std::vector<float>>{host_floats(out.values),
                                                            host_floats(out.scores),
                                                            host_floats(d_prm),
                                                            host_floats(d_mean)});
    };
    const int threads = kernels::cpu::num_threads();
    const auto one = run(1), two = run(2);
    kernels::cpu::set_num_threads(threads);
    EXPECT_EQ(two.first, one.first);
    for (size_t i = 0; i < one.second.size(); ++i)
      EXPECT_TRUE(bitwise_equal(two.second[i], one.second[i])) << "result " << i;
  }
}

TEST(PeakStimulationErrors, NameTheTensorAndWhatWasExpected) {
  Outputs out;
  auto expect_error = [](const auto& call, const std::string& text) {
    try {
      call();
      FAIL() << "no error, expected: " << text;
    } catch (const Error& error) {
      EXPECT_THAT(error.what(), HasSubstr(text));
    }
  };
  PeakStimulationOptions even;
  even.window_size = 4;
  expect_error([&] { run_forward(Tensor::zeros({1, 1, 3, 3}), even); },
               "peak_stimulation: window_size must be odd and >= 1, got 4");
  expect_error([&] { run_forward(Tensor::zeros({3, 3}), {}); },
               "peak_stimulation: maps must be 4-d (N, C, H, W) plain, got float32[3, 3] cpu "
               "plain");
  expect_error([&] { run_forward(Tensor::zeros({1, 2, 0, 3}), {}); },
               "peak_stimulation: maps must have H, W >= 1, got float32[1, 2, 0, 3]");
  out = run_forward(Tensor::zeros({1, 2, 3, 3}), {});
  Tensor d_maps = Tensor::zeros({1, 2, 3, 3});
  expect_error([&] { peak_stimulation_backward(Tensor::zeros({2, 1}), out.mask, out.counts, {},
                                               d_maps); },
               "peak_stimulation_backward: d_scores must be float32[1, 2] plain, got "
               "float32[2, 1] cpu plain");
  expect_error([&] { peak_stimulation_backward(Tensor::zeros({1, 2}), Tensor(), out.counts, {},
                                               d_maps); },
               "peak_stimulation_backward: peak_mask must be uint8[1, 2, 3, 3] on cpu, got "
               "undefined");
}

}  // namespace
}  // namespace wise::testing
