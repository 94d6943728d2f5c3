// Op-table rows for nn/peak_stimulation.h against the naive reference in
// tests/reference/peak_reference.h: random maps (odd sizes, window 5, the VOC-like
// 2 x 20 x 14 x 14, one large enough for the parallel CPU path), plateaus (values in
// {0, 1, 2}), constant maps, and the four thresholds. Each row checks the peak list,
// values, counts and scores, then both backward normalisations over a non-zero prior.
#include <cmath>
#include <string>
#include <vector>

#include "nn/peak_stimulation.h"
#include "tests/reference/peak_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/seeding.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

enum class Values { random, plateaus, constant };

struct PeakCase {
  std::string name;
  int64_t N, C, H, W;
  int window_size;
  Values values;
  PeakThreshold threshold;
  float threshold_value;
};

std::vector<float> make_maps(const PeakCase& s, uint64_t seed) {
  const int64_t n = s.N * s.C * s.H * s.W;
  std::vector<float> maps = random_floats(n, seed, -1.0f, 1.0f);
  if (s.values == Values::plateaus) {
    maps = random_floats(n, seed, 0.0f, 3.0f);
    for (float& value : maps) value = std::floor(value);
  } else if (s.values == Values::constant) {
    for (int64_t i = 0; i < n; ++i) maps[i] = 0.25f * static_cast<float>(i / (s.H * s.W));
  }
  return maps;
}

reference::PeakThresholdChoice choice_of(const PeakCase& s) {
  reference::PeakThresholdChoice choice;
  choice.kind = s.threshold == PeakThreshold::median ? reference::PeakThresholdChoice::median
                : s.threshold == PeakThreshold::fixed ? reference::PeakThresholdChoice::fixed
                : s.threshold == PeakThreshold::fraction_of_max ? reference::PeakThresholdChoice::fraction_of_max
                                                      : reference::PeakThresholdChoice::none;
  choice.value = s.threshold_value;
  return choice;
}

void check_peaks(const PeakCase& s, Device device, uint64_t seed) {
  const std::vector<float> maps = make_maps(s, seed);
  const reference::PeakResult expected =
      reference::peak_stimulation(maps, s.N, s.C, s.H, s.W, s.window_size, choice_of(s));
  PeakStimulationOptions options;
  options.window_size = s.window_size;
  options.threshold = s.threshold;
  options.threshold_value = s.threshold_value;
  Tensor peaks, values, scores, mask, counts;
  peak_stimulation_forward(on_device(maps, {s.N, s.C, s.H, s.W}, device), options, peaks, values,
                           scores, mask, counts);
  const int64_t K = static_cast<int64_t>(expected.values.size());
  ASSERT_EQ(peaks.shape(), Shape({K, 4}));
  EXPECT_EQ(peaks.to_vector<int64_t>(), expected.peaks);
  EXPECT_TRUE(all_close(host_floats(values), expected.values, kExact));  // a selection
  EXPECT_EQ(counts.to_vector<int64_t>(), expected.counts);
  EXPECT_TRUE(all_close(host_floats(scores), expected.scores, {1e-6, 1e-7}));  // one rounding

  const std::vector<float> d_scores = random_floats(s.N * s.C, seed + 1);
  const std::vector<float> prior = random_floats(s.N * s.C * s.H * s.W, seed + 2);
  for (const PeakGradient gradient : {PeakGradient::prm, PeakGradient::mean}) {
    options.gradient = gradient;
    Tensor d_maps = on_device(prior, {s.N, s.C, s.H, s.W}, device);  // += must keep it
    peak_stimulation_backward(on_device(d_scores, {s.N, s.C}, device), mask, counts, options,
                              d_maps);
    const bool mean = gradient == PeakGradient::mean;
    EXPECT_TRUE(all_close(host_floats(d_maps),
                          reference::peak_stimulation_backward(expected, d_scores, s.C, s.H,
                                                               s.W, mean, prior),
                          {1e-6, 1e-6}))
        << (mean ? "mean" : "prm") << " gradient";
  }
}

const PeakCase kCases[] = {
    {"random_1x1x1x1", 1, 1, 1, 1, 3, Values::random, PeakThreshold::median, 0.0f},
    {"random_2x3x7x9", 2, 3, 7, 9, 3, Values::random, PeakThreshold::median, 0.0f},
    {"random_1x3x9x11", 1, 3, 9, 11, 3, Values::random, PeakThreshold::median, 0.0f},
    {"random_1x2x8x6_w5", 1, 2, 8, 6, 5, Values::random, PeakThreshold::median, 0.0f},
    {"random_1x2x5x4_w1", 1, 2, 5, 4, 1, Values::random, PeakThreshold::median, 0.0f},
    {"voc_2x20x14x14", 2, 20, 14, 14, 3, Values::random, PeakThreshold::median, 0.0f},
    {"upsampled_1x4x112x112", 1, 4, 112, 112, 3, Values::random, PeakThreshold::median, 0.0f},
    {"plateaus_2x3x8x8", 2, 3, 8, 8, 3, Values::plateaus, PeakThreshold::median, 0.0f},
    {"plateaus_1x2x7x5_w5", 1, 2, 7, 5, 5, Values::plateaus, PeakThreshold::median, 0.0f},
    {"constant_2x2x6x5", 2, 2, 6, 5, 3, Values::constant, PeakThreshold::median, 0.0f},
    {"no_threshold_2x3x7x9", 2, 3, 7, 9, 3, Values::random, PeakThreshold::none, 0.0f},
    {"fixed_2x3x7x9", 2, 3, 7, 9, 3, Values::random, PeakThreshold::fixed, 0.5f},
    {"fixed_none_pass_1x3x5x5", 1, 3, 5, 5, 3, Values::random, PeakThreshold::fixed, 2.0f},
    {"fraction_of_max_2x3x7x9", 2, 3, 7, 9, 3, Values::random, PeakThreshold::fraction_of_max, 0.5f},
    {"fraction_of_max_plateaus_1x2x7x5_w5", 1, 2, 7, 5, 5, Values::plateaus, PeakThreshold::fraction_of_max, 0.7f},
    {"fraction_of_max_constant_2x2x6x5", 2, 2, 6, 5, 3, Values::constant, PeakThreshold::fraction_of_max, 0.5f},
    {"empty_0x3x5x5", 0, 3, 5, 5, 3, Values::random, PeakThreshold::median, 0.0f},
};

std::vector<OpCase> peak_cases() {
  std::vector<OpCase> cases;
  for (const PeakCase& s : kCases) {
    cases.push_back({"peak_stimulation_" + s.name,
                     [s](Device device, uint64_t seed) { check_peaks(s, device, seed); }});
  }
  return cases;
}

OpCaseRegistrar add_peak_cases(peak_cases());

}  // namespace
}  // namespace wise::testing
