// Op-table rows for models/detection/anchors.h and models/detection/matcher.h (kernels/anchors.h, kernels/matcher.h)
// against the naive references in tests/reference/anchor_reference.h.
//
// Anchors are integers plus rounded cell anchors: exact. Matcher rows use IoU matrices
// quantised to 1/20 (ties everywhere, values exactly at the thresholds' neighbourhood):
// exact. Sampler rows compare with the reference's stable sort of the same Philox keys
// (kernels/philox.h is the shared generator, not the code under test).
#include <random>
#include <string>
#include <vector>

#include "kernels/philox.h"
#include "models/detection/anchors.h"
#include "models/detection/matcher.h"
#include "tests/reference/anchor_reference.h"
#include "tests/support/compare.h"
#include "tests/support/op_table.h"
#include "tests/support/tensors.h"

namespace wise::testing {
namespace {

using kernels::Device;

struct AnchorRow {
  const char* name;
  int64_t image_height, image_width;
  std::vector<reference::AnchorLevel> levels;
};

std::vector<OpCase> anchor_cases() {
  const std::vector<float> fpn_ratios = {0.5f, 1.0f, 2.0f};
  std::vector<AnchorRow> rows = {
      {"anchors_fpn_64x96", 64, 96,
       {{16, 24, {32}, fpn_ratios}, {8, 12, {64}, fpn_ratios}, {4, 6, {128}, fpn_ratios},
        {2, 3, {256}, fpn_ratios}, {1, 2, {512}, fpn_ratios}}},
      {"anchors_fpn_odd_333x501", 333, 501,
       {{83, 125, {32}, fpn_ratios}, {42, 63, {64}, fpn_ratios}, {21, 32, {128}, fpn_ratios},
        {11, 16, {256}, fpn_ratios}, {6, 8, {512}, fpn_ratios}}},
      {"anchors_multi_size_41x29", 41, 29,
       {{7, 5, {13, 33, 35}, {0.25f, 0.5f, 1.0f, 3.0f}}, {1, 1, {101}, {0.7f}}}},
  };
  std::vector<OpCase> cases;
  for (const AnchorRow& row : rows) {
    cases.push_back({row.name, [row](Device device, uint64_t) {
                       AnchorGeneratorOptions options;
                       options.sizes.clear();
                       options.aspect_ratios.clear();
                       std::vector<FeatureMapSize> maps;
                       for (const reference::AnchorLevel& level : row.levels) {
                         options.sizes.push_back(level.sizes);
                         options.aspect_ratios.push_back(level.aspect_ratios);
                         maps.push_back({level.height, level.width});
                       }
                       Tensor anchors;
                       generate_anchors(row.image_height, row.image_width, maps, options, device,
                                        anchors);
                       EXPECT_TRUE(all_close(
                           host_floats(anchors),
                           reference::grid_anchors(row.image_height, row.image_width, row.levels),
                           kExact));
                     }});
  }
  return cases;
}

std::vector<OpCase> matcher_cases() {
  std::vector<OpCase> cases;
  for (auto [g, p] : {std::pair<int64_t, int64_t>{1, 1}, {3, 100}, {20, 2001}, {0, 9}}) {
    for (bool allow : {false, true}) {
      const std::string name = "matcher_" + std::to_string(g) + "x" + std::to_string(p) +
                               (allow ? "_low_quality" : "_strict");
      cases.push_back({name, [g = g, p = p, allow](Device device, uint64_t seed) {
                         std::mt19937_64 engine(seed);
                         std::vector<float> iou(static_cast<size_t>(g * p));
                         for (float& v : iou) v = float(engine() % 21) / 20.0f;
                         for (const MatcherOptions& base :
                              {rpn_matcher_options(), roi_heads_matcher_options()}) {
                           MatcherOptions options = base;
                           options.allow_low_quality_matches = allow;
                           Tensor matches;
                           match_proposals(on_device(iou, Shape{g, p}, device), options, matches);
                           EXPECT_EQ(matches.to_vector<int64_t>(),
                                     reference::match(iou, g, p, float(options.high_threshold),
                                                      float(options.low_threshold), allow));
                         }
                       }});
    }
  }
  return cases;
}

std::vector<float> philox_keys(uint64_t seed, uint64_t offset, int64_t n) {
  std::vector<float> keys(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    keys[i] = kernels::uniform_from_bits(
        kernels::philox_random(seed, offset + static_cast<uint64_t>(i)).x[0]);
  }
  return keys;
}

std::vector<OpCase> sampler_cases() {
  std::vector<OpCase> cases;
  for (int64_t n : {int64_t{1}, int64_t{300}, int64_t{20000}}) {
    cases.push_back({"balanced_sampler_n" + std::to_string(n), [n](Device device, uint64_t seed) {
                       std::mt19937_64 engine(seed);
                       std::vector<int64_t> labels(static_cast<size_t>(n));
                       for (int64_t& label : labels) label = int64_t(engine() % 4) - 1;
                       const BalancedSamplerOptions options{512, 0.25};
                       Generator generator{seed, 17};
                       Tensor positive, negative;
                       balanced_positive_negative_sample(on_device(labels, device), options,
                                                         generator, positive, negative);
                       const std::vector<uint8_t> expected_positive = reference::sample_by_keys(
                           labels, philox_keys(seed, 17, n), true, 128);
                       int64_t kept = 0;
                       for (uint8_t bit : expected_positive) kept += bit;
                       EXPECT_EQ(positive.to_vector<uint8_t>(), expected_positive);
                       EXPECT_EQ(negative.to_vector<uint8_t>(),
                                 reference::sample_by_keys(labels, philox_keys(seed, 17 + n, n),
                                                           false, 512 - kept));
                     }});
  }
  return cases;
}

const OpCaseRegistrar register_anchors(anchor_cases());
const OpCaseRegistrar register_matcher(matcher_cases());
const OpCaseRegistrar register_sampler(sampler_cases());

}  // namespace
}  // namespace wise::testing
