// Anchors, the matcher and the balanced sampler (models/detection/anchors.h, models/detection/matcher.h):
// hand-computed examples (torchvision's FPN cell anchors, half-to-even rounding, the grid
// order), matcher ties / thresholds / low-quality matches / NaN / empty inputs, sampler
// properties (counts, membership, determinism per seed), named errors, and identical
// results at 1 and 2 CPU threads and on CUDA. Reference rows: tests/op_table/anchor_cases.cpp;
// torchvision parity: tests/fixtures/anchors_parity_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <tuple>

#include "kernels/cpu/parallel_for.h"
#include "models/detection/anchors.h"
#include "models/detection/matcher.h"
#include "tests/support/devices.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using ::testing::HasSubstr;

const float kNaN = std::numeric_limits<float>::quiet_NaN();

std::vector<int64_t> run_match(const std::vector<float>& iou, int64_t num_gt,
                               const MatcherOptions& options, Device device = Device::cpu) {
  const int64_t num_proposals = num_gt > 0 ? static_cast<int64_t>(iou.size()) / num_gt : 0;
  Tensor matches;
  match_proposals(on_device(iou, Shape{num_gt, num_proposals}, device), options, matches);
  return matches.to_vector<int64_t>();
}

TEST(Anchors, FpnCellAnchorsAreTorchvisions) {
  Tensor cell;
  generate_cell_anchors({32.0f}, {0.5f, 1.0f, 2.0f}, Device::cpu, cell);
  // torchvision: AnchorGenerator(((32,),), ((0.5, 1.0, 2.0),)).cell_anchors[0]
  EXPECT_EQ(cell.to_vector<float>(), (std::vector<float>{-23, -11, 23, 11, -16, -16, 16, 16,
                                                         -11, -23, 11, 23}));
  EXPECT_EQ(cell.shape(), (Shape{3, 4}));
}

TEST(Anchors, CellAnchorsRoundHalfToEven) {
  Tensor cell;
  // 33 / 2 = 16.5 -> 16, 35 / 2 = 17.5 -> 18, 37 / 2 = 18.5 -> 18 (torch.round).
  generate_cell_anchors({33.0f, 35.0f, 37.0f}, {1.0f}, Device::cpu, cell);
  EXPECT_EQ(cell.to_vector<float>(), (std::vector<float>{-16, -16, 16, 16, -18, -18, 18, 18,
                                                         -18, -18, 18, 18}));
  // Ratio 4: h = 2 size, w = size / 2. Ratio-major, size-minor order.
  generate_cell_anchors({10.0f, 20.0f}, {4.0f, 1.0f}, Device::cpu, cell);
  EXPECT_EQ(cell.to_vector<float>(), (std::vector<float>{-2, -10, 2, 10, -5, -20, 5, 20,  //
                                                         -5, -5, 5, 5, -10, -10, 10, 10}));
}

TEST(Anchors, GridIsYMajorXMinorWithCellAnchorsTogether) {
  AnchorGeneratorOptions options;
  options.sizes = {{8.0f}};
  options.aspect_ratios = {{1.0f, 4.0f}};
  Tensor anchors;
  // 10 x 7 image, 2 x 3 map: strides 10 // 2 = 5, 7 // 3 = 2.
  generate_anchors(10, 7, {{2, 3}}, options, Device::cpu, anchors);
  ASSERT_EQ(anchors.shape(), (Shape{12, 4}));
  const std::vector<float> a = anchors.to_vector<float>();
  const float cells[2][4] = {{-4, -4, 4, 4}, {-2, -8, 2, 8}};
  for (int64_t y = 0; y < 2; ++y) {
    for (int64_t x = 0; x < 3; ++x) {
      for (int64_t k = 0; k < 2; ++k) {
        const int64_t row = (y * 3 + x) * 2 + k;
        for (int c = 0; c < 4; ++c) {
          const float shift = c % 2 == 0 ? float(2 * x) : float(5 * y);
          EXPECT_EQ(a[4 * row + c], shift + cells[k][c]) << "row " << row << " coordinate " << c;
        }
      }
    }
  }
  EXPECT_EQ(num_anchors_per_level(options, {{2, 3}}), (std::vector<int64_t>{12}));
}

TEST(Anchors, DefaultOptionsGiveTheFpnLevels) {
  const AnchorGeneratorOptions options;
  const std::vector<FeatureMapSize> maps = {{16, 24}, {8, 12}, {4, 6}, {2, 3}, {1, 2}};
  EXPECT_EQ(num_anchors_per_level(options, maps),
            (std::vector<int64_t>{16 * 24 * 3, 8 * 12 * 3, 4 * 6 * 3, 2 * 3 * 3, 1 * 2 * 3}));
  EXPECT_EQ(num_anchors_per_location(options, 4), 3);
  Tensor anchors;
  generate_anchors(64, 96, maps, options, Device::cpu, anchors);
  EXPECT_EQ(anchors.size(0), (16 * 24 + 8 * 12 + 4 * 6 + 2 * 3 + 2) * 3);
}

TEST(Anchors, ErrorsNameTheOptionAndTheLevel) {
  AnchorGeneratorOptions options;
  Tensor anchors;
  EXPECT_THAT([&] { generate_anchors(64, 64, {{8, 8}}, options, Device::cpu, anchors); },
              ::testing::ThrowsMessage<Error>(HasSubstr("generate_anchors: expected 5 feature maps")));
  options.sizes = {{32.0f}};
  options.aspect_ratios = {{-1.0f}};
  EXPECT_THAT([&] { generate_anchors(64, 64, {{8, 8}}, options, Device::cpu, anchors); },
              ::testing::ThrowsMessage<Error>(HasSubstr("level 0: aspect_ratios must be > 0")));
  options.aspect_ratios = {{1.0f}};
  EXPECT_THAT([&] { generate_anchors(64, 64, {{0, 8}}, options, Device::cpu, anchors); },
              ::testing::ThrowsMessage<Error>(HasSubstr("feature map 0 must have a positive size")));
}

TEST(Matcher, FirstMaximumWinsTiesAndThresholdsSplitTheLabels) {
  // 2 gt x 5 proposals. Column 0: tie at 0.8 -> gt 0. Column 1: 0.5 -> between.
  // Column 2: 0.1 -> below. Column 3: gt 1 at 0.9. Column 4: 0.3 exactly -> between.
  const std::vector<float> iou = {0.8f, 0.5f, 0.1f, 0.2f, 0.3f,  //
                                  0.8f, 0.4f, 0.0f, 0.9f, 0.1f};
  MatcherOptions strict = rpn_matcher_options();
  strict.allow_low_quality_matches = false;
  EXPECT_EQ(run_match(iou, 2, strict), (std::vector<int64_t>{0, -2, -1, 1, -2}));
  // RoI heads: 0.5 / 0.5: 0.5 is a match, 0.3 below.
  EXPECT_EQ(run_match(iou, 2, roi_heads_matcher_options()),
            (std::vector<int64_t>{0, 0, -1, 1, -1}));
  // Low quality: gt 0's best is 0.8 (column 0, already matched), gt 1's 0.9: no change.
  EXPECT_EQ(run_match(iou, 2, rpn_matcher_options()), (std::vector<int64_t>{0, -2, -1, 1, -2}));
}

TEST(Matcher, LowQualityMatchesRestoreEachGtsBestProposalsIncludingTies) {
  // gt 0's best is 0.4 at proposals 1 and 3 (tie): both restored, each to ITS best gt:
  // proposal 3's best gt is gt 1 (0.5). gt 1's best is 0.5 (proposal 3).
  const std::vector<float> iou = {0.1f, 0.4f, 0.2f, 0.4f,  //
                                  0.0f, 0.3f, 0.1f, 0.5f};
  EXPECT_EQ(run_match(iou, 2, rpn_matcher_options()), (std::vector<int64_t>{-1, 0, -1, 1}));
  MatcherOptions strict = rpn_matcher_options();
  strict.allow_low_quality_matches = false;
  EXPECT_EQ(run_match(iou, 2, strict), (std::vector<int64_t>{-1, -2, -1, -2}));
}

TEST(Matcher, AllBelowWithNoOverlapGetsGtZeroBackUnderLowQualityMatching) {
  // torchvision's quirk: a gt overlapping nothing has highest IoU 0, tied by every proposal.
  const std::vector<float> iou(2 * 6, 0.0f);
  EXPECT_EQ(run_match(iou, 2, rpn_matcher_options()), std::vector<int64_t>(6, 0));
  MatcherOptions strict = rpn_matcher_options();
  strict.allow_low_quality_matches = false;
  EXPECT_EQ(run_match(iou, 2, strict), std::vector<int64_t>(6, -1));
}

TEST(Matcher, NanIsTheMaximumAndMatchesNoThreshold) {
  // Column 1 holds a NaN at gt 1: torch.max picks it, NaN < low and NaN >= low are both
  // false, so the proposal keeps gt 1. gt 1's row max is NaN: it restores nothing.
  const std::vector<float> iou = {0.1f, 0.9f, 0.2f,  //
                                  0.0f, kNaN, 0.1f};
  EXPECT_EQ(run_match(iou, 2, rpn_matcher_options()), (std::vector<int64_t>{-1, 1, -1}));
}

TEST(Matcher, EmptyInputs) {
  // Zero gt: all BELOW_LOW_THRESHOLD (torchvision raises; its callers label background).
  Tensor matches;
  match_proposals(Tensor::zeros({0, 4}), rpn_matcher_options(), matches);
  EXPECT_EQ(matches.to_vector<int64_t>(), std::vector<int64_t>(4, -1));
  match_proposals(Tensor::zeros({3, 0}), rpn_matcher_options(), matches);
  EXPECT_EQ(matches.shape(), (Shape{0}));
}

TEST(Matcher, ErrorsNameTheTensor) {
  Tensor matches;
  EXPECT_THAT([&] { match_proposals(Tensor::zeros({3}), rpn_matcher_options(), matches); },
              ::testing::ThrowsMessage<Error>(HasSubstr("match_quality_matrix must be 2-d")));
  EXPECT_THAT(
      [&] { match_proposals(Tensor::zeros({2, 2}), {0.3, 0.7, true}, matches); },
      ::testing::ThrowsMessage<Error>(HasSubstr("low_threshold must be <= high_threshold")));
  Tensor positive, negative;
  Generator generator;
  EXPECT_THAT(
      [&] {
        balanced_positive_negative_sample(Tensor::zeros({4}), {}, generator, positive, negative);
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("labels must be int64 [N], got float32")));
}

// Labels: 1 positive, 0 negative, -1 ignored, 2 positive (a class index).
std::vector<int64_t> random_labels(int64_t n, int positives_in_100, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<int64_t> labels(static_cast<size_t>(n));
  for (int64_t& label : labels) {
    const int draw = static_cast<int>(engine() % 100);
    label = draw < positives_in_100 ? 1 + draw % 2 : (draw < 80 ? 0 : -1);
  }
  return labels;
}

struct Sample {
  std::vector<uint8_t> positive, negative;
};

Sample run_sample(const std::vector<int64_t>& labels, const BalancedSamplerOptions& options,
                  Generator& generator, Device device = Device::cpu) {
  Tensor positive, negative;
  balanced_positive_negative_sample(on_device(labels, device), options, generator, positive,
                                    negative);
  return {positive.to_vector<uint8_t>(), negative.to_vector<uint8_t>()};
}

TEST(Sampler, CountsMembershipAndFill) {
  struct Case { int64_t n; int positives_in_100; int64_t batch; double fraction; };
  for (const Case c : {Case{1000, 5, 256, 0.5}, Case{1000, 60, 256, 0.5},
                       Case{3000, 10, 512, 0.25}, Case{50, 30, 256, 0.5}, Case{7, 0, 4, 0.5}}) {
    SCOPED_TRACE("n " + std::to_string(c.n) + " batch " + std::to_string(c.batch));
    const std::vector<int64_t> labels = random_labels(c.n, c.positives_in_100, uint64_t(c.n));
    int64_t available_positive = 0, available_negative = 0;
    for (int64_t label : labels) {
      available_positive += label >= 1;
      available_negative += label == 0;
    }
    Generator generator{42, 0};
    const Sample sample = run_sample(labels, {c.batch, c.fraction}, generator);
    EXPECT_EQ(generator.offset, 2 * uint64_t(c.n));
    int64_t positives = 0, negatives = 0;
    for (int64_t i = 0; i < c.n; ++i) {
      EXPECT_FALSE(sample.positive[i] && sample.negative[i]);
      if (sample.positive[i]) {
        EXPECT_GE(labels[i], 1) << i;
      }
      if (sample.negative[i]) {
        EXPECT_EQ(labels[i], 0) << i;
      }
      positives += sample.positive[i];
      negatives += sample.negative[i];
    }
    const int64_t expected_positives =
        std::min(available_positive, int64_t(double(c.batch) * c.fraction));
    EXPECT_EQ(positives, expected_positives);
    EXPECT_EQ(negatives, std::min(available_negative, c.batch - expected_positives));
  }
}

TEST(Sampler, DeterministicPerSeedAndDifferentAcrossSeedsAndDraws) {
  const std::vector<int64_t> labels = random_labels(2000, 20, 7);
  Generator first_generator{5, 0}, same_seed{5, 0}, other_seed{6, 0};
  const Sample first = run_sample(labels, {}, first_generator);
  const Sample again = run_sample(labels, {}, same_seed);
  EXPECT_EQ(again.positive, first.positive);
  EXPECT_EQ(again.negative, first.negative);
  const Sample other = run_sample(labels, {}, other_seed);
  EXPECT_NE(other.positive, first.positive);
  EXPECT_NE(other.negative, first.negative);
  const Sample next = run_sample(labels, {}, first_generator);  // the generator has advanced
  EXPECT_NE(next.positive, first.positive);
  EXPECT_NE(next.negative, first.negative);
}

TEST(Sampler, EmptyAndZeroBatch) {
  Generator generator;
  const Sample none = run_sample({}, {}, generator);
  EXPECT_TRUE(none.positive.empty() && none.negative.empty());
  const Sample zero = run_sample({1, 0, 1, 0}, {0, 0.5}, generator);
  EXPECT_EQ(zero.positive, std::vector<uint8_t>(4, 0));
  EXPECT_EQ(zero.negative, std::vector<uint8_t>(4, 0));
}

TEST(AnchorsMatcherSampler, IdenticalAtOneAndTwoThreadsAndOnCuda) {
  const std::vector<int64_t> labels = random_labels(5000, 10, 3);
  std::mt19937_64 engine(11);
  std::vector<float> iou(7 * 3000);
  for (float& v : iou) v = float(engine() % 21) / 20.0f;  // many ties
  const AnchorGeneratorOptions options;
  const std::vector<FeatureMapSize> maps = {{50, 67}, {25, 34}, {13, 17}, {7, 9}, {4, 5}};
  auto run_all = [&](Device device) {
    Tensor anchors;
    generate_anchors(200, 267, maps, options, device, anchors);
    Generator generator{9, 0};
    const Sample sample = run_sample(labels, {}, generator, device);
    return std::make_tuple(anchors.to_vector<float>(), run_match(iou, 7, rpn_matcher_options(), device),
                           sample.positive, sample.negative);
  };
  const int threads = kernels::cpu::num_threads();
  kernels::cpu::set_num_threads(1);
  const auto one = run_all(Device::cpu);
  kernels::cpu::set_num_threads(2);
  const auto two = run_all(Device::cpu);
  kernels::cpu::set_num_threads(threads);
  EXPECT_TRUE(one == two);
  if (kernels::device_available(Device::cuda)) {
    EXPECT_TRUE(run_all(Device::cuda) == one);
  }
}

}  // namespace
}  // namespace wise::testing
